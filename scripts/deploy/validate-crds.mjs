// Validates the custom resources of rendered manifests against the operators' CRD schemas, and
// fails on any resource whose kind is neither a Kubernetes built-in nor one it has a schema for.
//
// The schemas are those of the npm packages @kubernetes-models/cloudnative-pg and
// @kubernetes-models/prometheus-operator (pinned in scripts/deploy/package.json): models generated
// from the operators' released CRD manifests, each with a validate() compiled from the CRD's
// OpenAPI schema (ajv). Those schemas have no `additionalProperties: false` (the API server prunes
// unknown fields of custom resources, and `kubectl apply` refuses them under its default
// --validate=strict), so a misspelt field would pass validate(). This script therefore also
// rejects unknown fields: it hands validate() the document wrapped in proxies that record which
// property names the compiled schema looked up. The validator looks up every property its
// schema declares, whether present or not; so a property of an object whose schema declares
// properties, that the validator never looked up, is not in the schema. An object whose schema
// declares no properties at all (free-form, `x-kubernetes-preserve-unknown-fields`) is looked
// up nowhere and is accepted as it is.
//
// Built-in kinds are recognised by API group, as Kubernetes reserves them (the core group,
// unqualified groups such as apps or policy, and *.k8s.io); they are validated by
// scripts/deploy/validate_builtin.py. Every other kind must be in MODELS below.
//
// Usage: node validate-crds.mjs RENDERED.yaml...   (run from target/deploy-node, where
// scripts/deploy-check.sh installs the packages and copies this file)
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { Cluster } from "@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1/Cluster";
import { Database } from "@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1/Database";
import { Pooler } from "@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1/Pooler";
import { ScheduledBackup } from "@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1/ScheduledBackup";
import { PodMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor";
import { PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";

// apiVersion -> kind -> model. A kind used in deploy/ but missing here fails the check.
const MODELS = {
  "postgresql.cnpg.io/v1": { Cluster, Database, Pooler, ScheduledBackup },
  "monitoring.coreos.com/v1": { PodMonitor, PrometheusRule, ServiceMonitor },
};

function isBuiltinGroup(apiVersion) {
  const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.lastIndexOf("/")) : "";
  return group === "" || !group.includes(".") || group.endsWith(".k8s.io");
}

// Where each schema comes from, read from the installed packages themselves.
function provenance() {
  return ["cloudnative-pg", "prometheus-operator"].map((name) => {
    const url = new URL(`./node_modules/@kubernetes-models/${name}/package.json`, import.meta.url);
    const pkg = JSON.parse(readFileSync(url, "utf8"));
    const inputs = (pkg["crd-generate"] && pkg["crd-generate"].input) || [];
    const release = inputs.map((u) => u.match(/download\/(v?[0-9][^/]*)\//)?.[1]).filter(Boolean);
    return `${pkg.name} ${pkg.version} (CRDs of release ${release.join(", ") || "?"})`;
  });
}

// Wraps every object and array of `value` in a proxy recording the property names read.
function track(value, reads) {
  if (value === null || typeof value !== "object") return value;
  const target = Array.isArray(value)
    ? value.map((v) => track(v, reads))
    : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, track(v, reads)]));
  const read = new Set();
  const proxy = new Proxy(target, {
    get(t, key, receiver) {
      if (typeof key === "string") read.add(key);
      return Reflect.get(t, key, receiver);
    },
    has(t, key) {
      if (typeof key === "string") read.add(key);
      return Reflect.has(t, key);
    },
  });
  reads.set(proxy, { target, read });
  return proxy;
}

// The paths of properties the validator never looked up under objects whose schema has some.
function unknownFields(node, reads, path, found) {
  const entry = reads.get(node);
  if (!entry) return found;
  const { target, read } = entry;
  if (Array.isArray(target)) {
    target.forEach((item, i) => unknownFields(item, reads, `${path}[${i}]`, found));
    return found;
  }
  // No property looked up at all: the schema declares none here (a free-form object).
  const declaresProperties = read.size > 0;
  for (const key of Object.keys(target)) {
    const child = path ? `${path}.${key}` : key;
    if (declaresProperties && !read.has(key)) found.push(child);
    else unknownFields(target[key], reads, child, found);
  }
  return found;
}

function describe(doc) {
  return `${doc.kind}/${doc.metadata?.name ?? "?"}`;
}

function checkFile(file) {
  const problems = [];
  const counts = {};
  let docs;
  try {
    docs = parseAllDocuments(readFileSync(file, "utf8"));
  } catch (e) {
    return { problems: [`${file}: ${e.message}`], counts };
  }
  for (const parsed of docs) {
    if (parsed.errors.length) {
      problems.push(`${file}: not YAML: ${parsed.errors[0].message}`);
      continue;
    }
    const doc = parsed.toJS();
    if (doc === null || doc === undefined) continue;
    if (typeof doc !== "object" || typeof doc.apiVersion !== "string" || typeof doc.kind !== "string") {
      problems.push(`${file}: a document without apiVersion and kind`);
      continue;
    }
    if (isBuiltinGroup(doc.apiVersion)) continue;
    const model = MODELS[doc.apiVersion]?.[doc.kind];
    if (!model) {
      problems.push(
        `${file}: ${describe(doc)}: ${doc.apiVersion} ${doc.kind} is neither a Kubernetes ` +
          `built-in nor a kind with a CRD schema here (${Object.entries(MODELS)
            .map(([v, kinds]) => `${v}: ${Object.keys(kinds).join(", ")}`)
            .join("; ")})`,
      );
      continue;
    }
    const reads = new Map();
    const tracked = track(doc, reads);
    try {
      model.prototype.validate.call(tracked);
    } catch (e) {
      problems.push(`${file}: ${describe(doc)}: ${e.message}`);
      continue;
    }
    const unknown = unknownFields(tracked, reads, "", []);
    for (const field of unknown) {
      problems.push(
        `${file}: ${describe(doc)}: ${field}: unknown field (not in the ${doc.kind} schema of ${doc.apiVersion})`,
      );
    }
    if (!unknown.length) counts[doc.kind] = (counts[doc.kind] ?? 0) + 1;
  }
  return { problems, counts };
}

const files = process.argv.slice(2);
if (!files.length) {
  console.error("usage: node validate-crds.mjs RENDERED.yaml...");
  process.exit(2);
}
let status = 0;
const sources = provenance().join("; ");
for (const file of files) {
  const { problems, counts } = checkFile(file);
  for (const problem of problems) console.error(`deploy-check: crd: ${problem}`);
  if (problems.length) {
    status = 1;
    continue;
  }
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const detail = Object.entries(counts)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(", ");
  console.log(
    `deploy-check: ${file}: ${total} custom resources valid against the CRD schemas` +
      (total ? ` (${detail}; unknown fields refused) of ${sources}` : ""),
  );
}
process.exit(status);
