/// The dashboard's script: reads the JSON API every second and redraws the overview or the
/// job the hash names. Charts are the server's SVG (the same renderer as the report's
/// files), inlined so their points are part of the page. A `?token=` in the page's own
/// address is passed on to every call.
enum DashboardScript {
    static let source = #"""
        "use strict";
        const token = new URLSearchParams(location.search).get("token");
        const $ = (selector) => document.querySelector(selector);
        const api = (path) => path + (token ? (path.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token) : "");
        const stateName = (state) => String(state || "").replace(/^JOB_STATE_/, "").toLowerCase();
        const text = (value) => document.createTextNode(value == null ? "" : String(value));
        // Protobuf's JSON mapping leaves out fields at zero: a missing number is 0.
        const n = (value) => Number(value || 0);
        let curvesSequence = -1, curvesJob = null;

        function cell(row, value, className) {
          const td = document.createElement("td");
          if (value instanceof Node) td.appendChild(value); else td.appendChild(text(value));
          if (className) td.className = className;
          row.appendChild(td);
          return td;
        }

        function card(container, label, value) {
          const div = document.createElement("div");
          div.className = "card";
          div.innerHTML = '<div class="label"></div><div class="value"></div>';
          div.querySelector(".label").textContent = label;
          div.querySelector(".value").textContent = value;
          div.dataset.label = label;
          container.appendChild(div);
        }

        function progressBar(done, total) {
          const span = document.createElement("span");
          const fraction = total > 0 ? Math.min(1, done / total) : 0;
          span.innerHTML = '<span class="bar"><span></span></span> ';
          span.querySelector(".bar span").style.width = (100 * fraction).toFixed(0) + "%";
          span.appendChild(text(total > 0 ? done + "/" + total : done + " done"));
          return span;
        }

        async function getJSON(path) {
          const response = await fetch(api(path), { cache: "no-store" });
          const body = await response.json().catch(() => ({}));
          if (!response.ok) throw new Error(body.error || (path + ": HTTP " + response.status));
          return body;
        }

        async function getText(path) {
          const response = await fetch(api(path), { cache: "no-store" });
          if (!response.ok) throw new Error(path + ": HTTP " + response.status);
          return response.text();
        }

        function seconds(value) {
          const s = Number(value || 0);
          return s < 120 ? s.toFixed(1) + " s" : s < 7200 ? (s / 60).toFixed(1) + " min" : (s / 3600).toFixed(1) + " h";
        }

        async function drawOverview() {
          const [cluster, list] = await Promise.all([getJSON("api/cluster"), getJSON("api/jobs?limit=200")]);
          $("#coordinator").textContent = cluster.coordinator_id + (cluster.draining ? " (draining)" : "");
          const cards = $("#cluster");
          cards.replaceChildren();
          const jobs = list.jobs || [];
          card(cards, "workers", (cluster.workers || []).length);
          card(cards, "slots", (cluster.workers || []).reduce((sum, w) => sum + n(w.slots), 0));
          card(cards, "jobs running", jobs.filter((j) => stateName(j.state) === "running").length);
          card(cards, "jobs in all", list.total != null ? list.total : jobs.length);
          card(cards, "tasks completed", n(cluster.counters && cluster.counters.tasks_completed));
          const workers = $("#workers tbody");
          workers.replaceChildren();
          for (const w of cluster.workers || []) {
            const row = document.createElement("tr");
            row.dataset.workerId = w.worker_id;
            cell(row, w.worker_id); cell(row, w.hostname + " (pid " + n(w.pid) + ")"); cell(row, n(w.slots)); cell(row, n(w.running_tasks));
            cell(row, n(w.tasks_completed)); cell(row, (n(w.ms_since_heard) / 1000).toFixed(1) + " s ago");
            cell(row, w.data_endpoint || "none"); cell(row, (w.capabilities || []).join(", "));
            workers.appendChild(row);
          }
          const body = $("#jobs tbody");
          body.replaceChildren();
          for (const j of jobs) {
            const row = document.createElement("tr");
            row.className = "clickable";
            row.dataset.jobId = j.job_id;
            row.dataset.state = stateName(j.state);
            const link = document.createElement("a");
            link.href = "#/jobs/" + encodeURIComponent(j.job_id);
            link.textContent = j.job_id;
            cell(row, link); cell(row, j.name); cell(row, j.workload);
            const state = cell(row, stateName(j.state), "state " + stateName(j.state));
            state.classList.add("job-state");
            cell(row, progressBar(n(j.tasks_done), n(j.tasks_total)));
            cell(row, seconds(j.elapsed_s)); cell(row, j.error || j.progress, "muted");
            row.addEventListener("click", () => { location.hash = "#/jobs/" + encodeURIComponent(j.job_id); });
            body.appendChild(row);
          }
        }

        function drawLeaderboard(board) {
          const section = $("#leaderboard-section");
          const rows = board && board.rows ? board.rows : [];
          section.hidden = rows.length === 0;
          if (!board) return;
          $("#leaderboard-metric").textContent = board.metric + (board.higherIsBetter ? " ↑" : " ↓");
          const body = $("#leaderboard tbody");
          body.replaceChildren();
          for (const r of rows.slice(0, 50)) {
            const row = document.createElement("tr");
            row.dataset.rank = r.rank;
            cell(row, r.rank); cell(row, r.name, "name"); cell(row, Number(r.value).toPrecision(4), "value");
            cell(row, r.lower != null ? "[" + Number(r.lower).toPrecision(3) + ", " + Number(r.upper).toPrecision(3) + "]" : "", "interval");
            cell(row, r.detail, "muted");
            body.appendChild(row);
          }
        }

        async function drawJob(id) {
          const doc = await getJSON("api/jobs/" + encodeURIComponent(id));
          const job = doc.job, state = stateName(job.state);
          $("#job-name").textContent = job.name + " (" + job.job_id + ", " + job.workload + ")";
          const badge = $("#job-state");
          badge.textContent = state;
          badge.className = "state " + state;
          badge.dataset.state = state;
          const cards = $("#job-summary");
          cards.replaceChildren();
          card(cards, "tasks done", n(job.tasks_done) + " / " + n(job.tasks_total));
          card(cards, "running", n(job.tasks_running)); card(cards, "queued", n(job.tasks_queued));
          card(cards, "failed", n(job.tasks_failed)); card(cards, "retries", n(job.retries));
          card(cards, "cached", n(job.tasks_cached)); card(cards, "elapsed", seconds(job.elapsed_s));
          if (n(job.round_trip_p50_us) > 0) card(cards, "round trip p50", (n(job.round_trip_p50_us) / 1000).toFixed(2) + " ms");
          $("#job-progress").textContent = job.error ? "error: " + job.error : (job.progress || "");
          drawLeaderboard(doc.leaderboard);
          $("#report-text").textContent = job.report_text || "";
          $("#spec").textContent = doc.spec_yaml || "";
          const files = $("#files");
          files.replaceChildren();
          for (const name of doc.files || []) {
            const item = document.createElement("li");
            const link = document.createElement("a");
            link.href = api("api/jobs/" + encodeURIComponent(id) + "/files/" + encodeURIComponent(name));
            link.textContent = name;
            link.setAttribute("download", name);
            item.appendChild(link);
            files.appendChild(item);
          }
          // Curves are fetched again only when new points arrived.
          const curves = await getJSON("api/jobs/" + encodeURIComponent(id) + "/curves?after=" + Math.max(0, curvesJob === id ? curvesSequence : 0));
          if (curvesJob !== id || curves.last_sequence !== curvesSequence) {
            $("#curves").innerHTML = await getText("api/jobs/" + encodeURIComponent(id) + "/curves.svg");
            curvesJob = id;
            curvesSequence = curves.last_sequence;
          }
          $("#pareto-section").hidden = !doc.pareto;
          if (doc.pareto) $("#pareto").innerHTML = await getText("api/jobs/" + encodeURIComponent(id) + "/pareto.svg");
        }

        async function refresh() {
          const match = location.hash.match(/^#\/jobs\/(.+)$/);
          $("#overview").hidden = !!match;
          $("#job").hidden = !match;
          try {
            if (match) await drawJob(decodeURIComponent(match[1])); else await drawOverview();
            $("#error").hidden = true;
            $("#updated").textContent = "updated " + new Date().toLocaleTimeString();
            document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
          } catch (error) {
            $("#error").hidden = false;
            $("#error").textContent = error.message;
          }
        }

        window.addEventListener("hashchange", () => { curvesJob = null; refresh(); });
        refresh();
        setInterval(refresh, 1000);

        """#
}
