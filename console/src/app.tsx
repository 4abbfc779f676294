/**
 * The console's shell: navigation, the page for the current URL, and the login form whenever the
 * broker asks for credentials (security on and no key yet, or a key it refused).
 */
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { credentials, onUnauthenticated, type Problem } from "./api.js";
import { GroupPage } from "./pages/group.js";
import { GroupsPage } from "./pages/groups.js";
import { SubscriptionPage } from "./pages/subscription.js";
import { SubscriptionsPage } from "./pages/subscriptions.js";
import { TopicPage } from "./pages/topic.js";
import { TopicsPage } from "./pages/topics.js";
import { Login } from "./login.js";
import { Link, paths, useLocation, type Route } from "./router.js";
import { forgetSamples } from "./sampling.js";

export function App(): JSX.Element {
  const { route, query } = useLocation();
  const [refused, setRefused] = useState<Problem | null>(null);
  const [session, setSession] = useState(0);
  const [hasKey, setHasKey] = useState(credentials.get() !== null);
  useEffect(() => onUnauthenticated(setRefused), []);

  const loggedIn = () => {
    setRefused(null);
    setHasKey(true);
    setSession((n) => n + 1);
  };
  const logOut = () => {
    credentials.clear();
    forgetSamples();
    setHasKey(false);
    setSession((n) => n + 1);
  };

  return (
    <>
      <header>
        <Link href={paths.topics()} class="brand">
          Dynalog
        </Link>
        <nav>
          <Link href={paths.topics()} class={route.page.startsWith("topic") ? "active" : ""}>
            Topics
          </Link>
          <Link href={paths.groups()} class={route.page.startsWith("group") ? "active" : ""}>
            Consumer groups
          </Link>
          <Link href={paths.subscriptions()} class={route.page.startsWith("subscription") ? "active" : ""}>
            Subscriptions
          </Link>
        </nav>
        {hasKey && (
          <button type="button" class="logout" onClick={logOut}>
            Log out
          </button>
        )}
      </header>
      <main>{refused ? <Login problem={refused} hadKey={hasKey} onLogin={loggedIn} /> : <Page key={session} route={route} query={query} />}</main>
    </>
  );
}

function Page(props: { route: Route; query: URLSearchParams }): JSX.Element {
  const { route } = props;
  switch (route.page) {
    case "topics":
      return <TopicsPage />;
    case "topic":
      return <TopicPage key={route.topic} topic={route.topic} query={props.query} />;
    case "groups":
      return <GroupsPage />;
    case "group":
      return <GroupPage key={route.group} group={route.group} />;
    case "subscriptions":
      return <SubscriptionsPage />;
    case "subscription":
      return <SubscriptionPage key={route.name} name={route.name} />;
    case "not-found":
      return (
        <section>
          <h1>No such page</h1>
          <p>
            Nothing lives at <code>{route.path}</code>. <Link href={paths.topics()}>See the topics</Link>.
          </p>
        </section>
      );
  }
}
