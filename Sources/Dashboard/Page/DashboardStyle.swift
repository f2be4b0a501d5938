/// The dashboard's style sheet: plain CSS, readable on a laptop and a wall screen.
enum DashboardStyle {
    static let source = """
        body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #222; background: #fafafa; }
        header { background: #1f2d3d; color: #fff; padding: 10px 20px; }
        header a { color: #fff; font-weight: bold; text-decoration: none; margin-right: 12px; }
        main { padding: 10px 20px 40px; }
        h2 { margin: 24px 0 8px; font-size: 18px; } h3 { margin: 20px 0 6px; font-size: 15px; }
        table { border-collapse: collapse; width: 100%; background: #fff; }
        th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e5e5e5; vertical-align: top; }
        th { background: #f0f2f5; font-weight: 600; }
        tr.clickable { cursor: pointer; } tr.clickable:hover { background: #f5f8ff; }
        .cards { display: flex; flex-wrap: wrap; gap: 10px; margin-top: 10px; }
        .card { background: #fff; border: 1px solid #e0e0e0; border-radius: 6px; padding: 8px 12px; min-width: 110px; }
        .card .label { color: #666; font-size: 12px; } .card .value { font-size: 18px; font-weight: 600; }
        .state { font-size: 12px; padding: 2px 6px; border-radius: 4px; background: #ddd; }
        .state.running { background: #dbeafe; } .state.succeeded { background: #dcfce7; } .state.failed { background: #fee2e2; } .state.cancelled { background: #fef3c7; }
        .muted { color: #777; } .error { color: #b91c1c; }
        .bar { display: inline-block; width: 80px; height: 8px; background: #e5e7eb; border-radius: 4px; vertical-align: middle; }
        .bar span { display: block; height: 8px; background: #4e79a7; border-radius: 4px; }
        .chart svg { max-width: 100%; height: auto; background: #fff; border: 1px solid #e0e0e0; }
        pre { background: #fff; border: 1px solid #e0e0e0; padding: 8px; overflow: auto; max-height: 360px; }

        """
}
