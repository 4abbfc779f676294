/** `/console/groups`: every consumer group the caller may describe, with its state and total lag. */
import type { JSX } from "preact";
import { api, mapLimit } from "../api.js";
import { ProblemBox, Refresh, useLoad } from "../components.js";
import { Link, paths } from "../router.js";

export function GroupsPage(): JSX.Element {
  const groups = useLoad(async () => {
    const listed = await api.listGroups();
    // Lag is per group (describe): the list route does not compute it, as it is a table scan already.
    const lags = await mapLimit(listed, 6, (g) => api.describeGroup(g.group).then((d) => d.totalLag, () => null));
    return listed.map((g, i) => ({ ...g, totalLag: lags[i] ?? null }));
  }, []);
  return (
    <section>
      <h1>
        Consumer groups <Refresh loading={groups.loading} onClick={groups.reload} />
      </h1>
      {groups.problem && <ProblemBox problem={groups.problem} retry={groups.reload} />}
      {groups.data && groups.data.length === 0 && <p class="empty">No consumer groups yet (or none this API key may describe).</p>}
      {groups.data && groups.data.length > 0 && (
        <table class="groups">
          <thead>
            <tr>
              <th>Group</th>
              <th>State</th>
              <th class="num">Members</th>
              <th class="num">Epoch</th>
              <th class="num">Total lag</th>
            </tr>
          </thead>
          <tbody>
            {groups.data.map((g) => (
              <tr key={g.group} data-group={g.group}>
                <td>
                  <Link href={paths.group(g.group)}>{g.group}</Link>
                </td>
                <td>{g.state}</td>
                <td class="num">{g.members}</td>
                <td class="num">{g.groupEpoch}</td>
                <td class="num lag">{g.totalLag ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
