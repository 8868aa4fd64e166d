//! Child directors' and supervisors' posts.

use minzheng_kit::{
    Error,
    aggregate::{CommandContext, Committed},
};
use minzheng_types::RegionCode;

use super::ChildWelfare;
use crate::post::{self, Post};

impl ChildWelfare {
    /// Runs a command on a division's post; the division is the command's.
    pub async fn post_command(
        &self,
        command: post::Command,
        context: &CommandContext,
    ) -> Result<Committed, Error> {
        self.not_future("on", command.on())?;
        let division = command.division();
        let committed = self.posts.run(&division, &command, context).await?;
        self.written(&committed);
        Ok(committed)
    }

    /// A division's post, as stored (the default when never recorded).
    pub async fn post(&self, division: RegionCode) -> Result<Post, Error> {
        Ok(self.posts.load(&division).await?.state)
    }
}
