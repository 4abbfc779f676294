/** The API-key login form: the key is kept in this tab's sessionStorage and sent as a Bearer token. */
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { credentials, type Problem } from "./api.js";
import { ProblemBox } from "./components.js";

export function Login(props: { problem: Problem; hadKey: boolean; onLogin: () => void }): JSX.Element {
  const [token, setToken] = useState("");
  const submit = (event: Event) => {
    event.preventDefault();
    if (token.trim() === "") return;
    credentials.set(token);
    props.onLogin();
  };
  return (
    <section class="login">
      <h1>Log in</h1>
      {props.hadKey ? (
        <ProblemBox problem={props.problem} />
      ) : (
        <p>This broker requires an API key. Paste a key's token (<code>dlk_…</code>; <code>npm start -- --auth</code> prints the super-user's).</p>
      )}
      <form onSubmit={submit}>
        <label>
          API key <input name="token" type="password" autoComplete="off" value={token} onInput={(e) => setToken((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit">Log in</button>
      </form>
      <p class="note">The key stays in this browser tab (sessionStorage) and goes only to this broker's API.</p>
    </section>
  );
}
