/**
 * `/console/subscriptions`: every push subscription the caller may describe (docs/subscriptions.md),
 * with its target, state, lag and failing partitions, and Pause/Resume.
 */
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { api, mapLimit, type Problem } from "../api.js";
import { ProblemBox, Refresh, toProblem, useLoad } from "../components.js";
import { Link, paths } from "../router.js";
import type { Subscription, SubscriptionDescription } from "../types.js";

export function SubscriptionsPage(): JSX.Element {
  const subscriptions = useLoad(async () => {
    const listed = await api.listSubscriptions();
    // Lag and errors are per subscription (describe), as for groups; one it may not describe shows "—".
    const described = await mapLimit(listed, 6, (s) => api.describeSubscription(s.name).catch(() => null));
    return listed.map((s, i) => ({ subscription: s, described: described[i] ?? null }));
  }, []);
  return (
    <section>
      <h1>
        Subscriptions <Refresh loading={subscriptions.loading} onClick={subscriptions.reload} />
      </h1>
      {subscriptions.problem && <ProblemBox problem={subscriptions.problem} retry={subscriptions.reload} />}
      {subscriptions.data && subscriptions.data.length === 0 && <p class="empty">No push subscriptions yet (or none this API key may describe).</p>}
      {subscriptions.data && subscriptions.data.length > 0 && (
        <table class="subscriptions">
          <thead>
            <tr>
              <th>Subscription</th>
              <th>Topic</th>
              <th>Target</th>
              <th>Delivery</th>
              <th>State</th>
              <th class="num">Lag</th>
              <th>Errors</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {subscriptions.data.map(({ subscription: s, described }) => (
              <tr key={s.name} data-subscription={s.name}>
                <td>
                  <Link href={paths.subscription(s.name)}>{s.name}</Link>
                </td>
                <td>
                  <Link href={paths.topic(s.topic)}>{s.topic}</Link>
                </td>
                <td class="target">{targetText(s.target)}</td>
                <td>{s.delivery}</td>
                <td class="state">
                  <StateBadge state={s.state} />
                </td>
                <td class="num lag">{described?.totalLag ?? "—"}</td>
                <td class="errors">{described ? errorSummary(described) : "—"}</td>
                <td>
                  <PauseResume subscription={s} onChanged={subscriptions.reload} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function targetText(target: Subscription["target"]): string {
  switch (target.type) {
    case "webhook":
      return target.url;
    case "function":
      return target.arn;
    case "module":
      return `module ${target.path}`;
  }
}

/** "none", or how many partitions have a last error and a record waiting for its retry. */
function errorSummary(d: SubscriptionDescription): string {
  const failing = d.partitions.filter((p) => p.lastError !== null).length;
  const retrying = d.partitions.filter((p) => p.retry !== null).length;
  if (failing === 0 && retrying === 0) return "none";
  return [failing > 0 ? `${failing} partition${failing === 1 ? "" : "s"} with an error` : "", retrying > 0 ? `${retrying} retrying` : ""].filter(Boolean).join(", ");
}

export function StateBadge(props: { state: Subscription["state"] }): JSX.Element {
  return <span class={`badge state-${props.state}`}>{props.state}</span>;
}

/** Pause an active subscription or resume a paused one; a refusal (Alter on the cluster) is shown beside it. */
export function PauseResume(props: { subscription: Subscription; onChanged: () => void }): JSX.Element {
  const { subscription, onChanged } = props;
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const action = subscription.state === "active" ? "pause" : "resume";
  const click = async () => {
    setBusy(true);
    setProblem(null);
    try {
      await api.setSubscriptionState(subscription.name, action);
      onChanged();
    } catch (error) {
      setProblem(toProblem(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="pause-resume">
      <button type="button" class={action} onClick={click} disabled={busy}>
        {action === "pause" ? "Pause" : "Resume"}
      </button>
      {problem && <ProblemBox problem={problem} />}
    </span>
  );
}
