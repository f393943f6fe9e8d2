// Turn TeX into MathML with KaTeX at build time, so pages need no math JavaScript: the browser
// typesets MathML itself. Reads a JSON list of {tex, display} from stdin and writes a JSON list of
// <math> elements, out of the span KaTeX wraps them in (only KaTeX's own style sheet uses it).
// A formula KaTeX cannot parse makes it exit with status 1 and the formula in the message.
const katex = require(process.argv[2] || "katex");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const rendered = JSON.parse(input).map(({ tex, display }) => {
    try {
      const html = katex.renderToString(tex, { displayMode: display, throwOnError: true, output: "mathml" });
      return html.replace(/^<span class="katex">(<math[\s\S]*<\/math>)<\/span>$/, "$1");
    } catch (error) {
      process.stderr.write(`cannot render ${JSON.stringify(tex)}: ${error.message}\n`);
      process.exit(1);
    }
  });
  process.stdout.write(JSON.stringify(rendered));
});
