/** The web console's entry point (docs/console.md). */
import { render } from "preact";
import { App } from "./app.js";
import "./style.css";

const root = document.getElementById("app")!;
// Replace the static "Loading…" line: render() adds to what the container holds, it does not clear it.
root.replaceChildren();
render(<App />, root);
