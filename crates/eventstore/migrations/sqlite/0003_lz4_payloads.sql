-- PostgreSQL's 0003 moves large payloads to LZ4 compression; SQLite stores payloads as they
-- are, so there is nothing to change here (both backends keep the same versions).
SELECT 1;
