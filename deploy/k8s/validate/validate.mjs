// Renders each kustomization named on the command line with `kubectl kustomize` and validates every
// object it renders against the Kubernetes API's schemas (types, required fields, formats, enums),
// offline, with kubernetes-models. An object of a kind those schemas do not know fails too.
// Fields the schemas do not name are checked by the deploy tests (tests/AgentIdp.Deploy.Tests).
//
//   node validate.mjs DIR...      (npm run validate: the base and the production overlay)
//
// Exit code 0 when every object is valid, 1 when one is not or a kustomization does not render.
import { execFileSync } from "node:child_process";
import * as models from "kubernetes-models";
import { parseAllDocuments } from "yaml";

// "apps/v1 Deployment" -> the model class, for every kind kubernetes-models has: its exports are
// groups of versions (apps.v1.Deployment), and the core group's version itself (v1.Service).
const kinds = new Map();
function collect(exports, depth) {
  for (const value of Object.values(exports)) {
    if (typeof value === "function" && value.apiVersion && value.kind) {
      kinds.set(`${value.apiVersion} ${value.kind}`, value);
    } else if (typeof value === "object" && value !== null && depth > 0) {
      collect(value, depth - 1);
    }
  }
}
collect(models, 2);

function render(directory) {
  try {
    return execFileSync("kubectl", ["kustomize", directory], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    if (error.code === "ENOENT") {
      throw new Error("kubectl is not on PATH: install kubectl (it renders the manifests with `kubectl kustomize`).");
    }
    throw new Error(`kubectl kustomize ${directory} failed:\n${error.stderr || error.message}`);
  }
}

function validate(directory) {
  const problems = [];
  const documents = parseAllDocuments(render(directory));
  let count = 0;
  for (const document of documents) {
    if (document.errors.length > 0) {
      problems.push(`YAML: ${document.errors.map((e) => e.message).join("; ")}`);
      continue;
    }
    const object = document.toJS();
    if (object === null) {
      continue;
    }
    count++;
    const name = `${object.kind ?? "?"} ${object.metadata?.name ?? "?"}`;
    const model = kinds.get(`${object.apiVersion} ${object.kind}`);
    if (!model) {
      problems.push(`${name}: ${object.apiVersion} ${object.kind} is not a Kubernetes kind these schemas know`);
      continue;
    }
    try {
      new model(object).validate();
    } catch (error) {
      const details = error.errors?.map((e) => `${e.instancePath || "/"} ${e.message}`) ?? [error.message];
      problems.push(...details.map((detail) => `${name}: ${detail}`));
    }
  }
  if (count === 0) {
    problems.push("renders no object");
  }
  return { count, problems };
}

const directories = process.argv.slice(2);
if (directories.length === 0) {
  console.error("usage: node validate.mjs KUSTOMIZATION_DIR...");
  process.exit(2);
}
let failed = false;
for (const directory of directories) {
  let result;
  try {
    result = validate(directory);
  } catch (error) {
    result = { count: 0, problems: [error.message] };
  }
  if (result.problems.length === 0) {
    console.log(`${directory}: ${result.count} objects valid`);
  } else {
    failed = true;
    console.error(`${directory}: invalid`);
    for (const problem of result.problems) {
      console.error(`  ${problem}`);
    }
  }
}
process.exit(failed ? 1 : 0);
