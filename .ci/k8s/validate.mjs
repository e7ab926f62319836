// Validates every document of a rendered kustomization (stdin) against the Kubernetes schemas of
// kubernetes-models, offline: an unknown field or a wrong type fails, naming the object and field.
import { parseAllDocuments } from "yaml";
import { readFileSync } from "node:fs";

const text = readFileSync(0, "utf8");
let failed = 0;
let checked = 0;
for (const doc of parseAllDocuments(text)) {
  const obj = doc.toJS();
  if (!obj) continue;
  const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : [null, obj.apiVersion];
  const path = group ? `kubernetes-models/${group}/${version}/${obj.kind}` : `kubernetes-models/${version}/${obj.kind}`;
  const name = `${obj.kind}/${obj.metadata?.name}`;
  if (obj.kind === "Secret" && obj.data) {
    // kustomize wraps long base64 values over lines; the API server's decoder skips the line breaks.
    for (const key of Object.keys(obj.data)) obj.data[key] = String(obj.data[key]).replace(/\s+/g, "");
  }
  try {
    const mod = await import(path);
    const Model = mod[obj.kind] ?? mod.default;
    new Model(obj).validate();
    checked++;
    console.log(`ok ${name}`);
  } catch (e) {
    failed++;
    console.log(`INVALID ${name}: ${e.message}`);
  }
}
console.log(`${checked} valid, ${failed} invalid`);
process.exit(failed || !checked ? 1 : 0);
