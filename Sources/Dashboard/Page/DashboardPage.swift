/// The dashboard's one HTML page: an overview (coordinator, workers, jobs) and, when the
/// location's hash names a job (`#/jobs/ID`), that job's page. The script fills both from
/// the JSON API and refreshes them every second, with no reload.
enum DashboardPage {
    static let html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Orrery</title>
        <link rel="stylesheet" href="static/dashboard.css">
        </head>
        <body>
        <header><a href="#/" id="home">Orrery</a> <span id="coordinator"></span> <span id="updated" class="muted"></span></header>
        <main>
        <section id="overview">
          <div id="cluster" class="cards"></div>
          <h2>Workers</h2>
          <table id="workers"><thead><tr><th>worker</th><th>host</th><th>slots</th><th>running</th><th>done</th><th>heard</th><th>data plane</th><th>workloads</th></tr></thead><tbody></tbody></table>
          <h2>Jobs</h2>
          <table id="jobs"><thead><tr><th>job</th><th>name</th><th>workload</th><th>state</th><th>progress</th><th>elapsed</th><th>note</th></tr></thead><tbody></tbody></table>
        </section>
        <section id="job" hidden>
          <h2><span id="job-name"></span> <span id="job-state" class="state"></span></h2>
          <div id="job-summary" class="cards"></div>
          <p id="job-progress" class="muted"></p>
          <div id="leaderboard-section" hidden>
            <h3>Leaderboard</h3>
            <table id="leaderboard"><thead><tr><th>#</th><th>entry</th><th id="leaderboard-metric">value</th><th>95% interval</th><th>detail</th></tr></thead><tbody></tbody></table>
          </div>
          <h3>Curves</h3>
          <div id="curves" class="chart"></div>
          <div id="pareto-section" hidden><h3>Pareto front</h3><div id="pareto" class="chart"></div></div>
          <h3>Report</h3>
          <pre id="report-text"></pre>
          <ul id="files"></ul>
          <details><summary>Spec</summary><pre id="spec"></pre></details>
        </section>
        <p id="error" class="error" hidden></p>
        </main>
        <script src="static/dashboard.js"></script>
        </body>
        </html>

        """
}
