// The live page: one HTML document with its script inline, no library and nothing fetched but
// /stats.json from the serve process itself, once a second. Rates are drawn as SVG polylines.

export const LIVE_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Firelake live: local pipeline</title>
<style>
:root { font-family: system-ui, sans-serif; color: #1d1d1f; }
body { max-width: 1000px; margin: 0 auto; padding: 1rem 1.25rem; }
h1 { font-size: 1.4rem; } .meta { color: #555; }
.kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: .8rem; margin: 1rem 0; }
.kpi { border: 1px solid #ddd; border-radius: .4rem; padding: .5rem .7rem; }
.kpi b { display: block; font-size: 1.5rem; font-variant-numeric: tabular-nums; }
.kpi span { color: #555; font-size: .85rem; }
table { border-collapse: collapse; font-size: .85rem; } th, td { border: 1px solid #ddd; padding: .2rem .45rem; text-align: left; }
#stale { color: #c62828; font-weight: 600; }
svg { width: 100%; height: 160px; border: 1px solid #eee; }
.in { stroke: #4e79a7; } .out { stroke: #f28e2b; } .legend-in { color: #4e79a7; } .legend-out { color: #f28e2b; }
</style>
</head>
<body>
<h1>Firelake live: the local pipeline</h1>
<p class="meta">Updated every second from <code>firelake serve</code> · <span id="updated">waiting for the first figures</span> <span id="stale"></span></p>
<div class="kpis">
<div class="kpi"><b id="records-in" data-value="0">0</b><span>records in (total)</span></div>
<div class="kpi"><b id="records-out" data-value="0">0</b><span>records out of the transform</span></div>
<div class="kpi"><b id="rate-in" data-value="0">0</b><span>records in per second</span></div>
<div class="kpi"><b id="rate-out" data-value="0">0</b><span>records out per second</span></div>
<div class="kpi"><b id="backlog" data-value="0">0</b><span>backlog (KiB not yet in the lake)</span></div>
<div class="kpi"><b id="invocations" data-value="0">0</b><span>transform invocations</span></div>
<div class="kpi"><b id="latency-p50" data-value="">-</b><span>send to staged p50 (s, last minute)</span></div>
<div class="kpi"><b id="latency-p99" data-value="">-</b><span>send to staged p99 (s, last minute)</span></div>
<div class="kpi"><b id="staged" data-value="0">0</b><span>events staged</span></div>
<div class="kpi"><b id="quarantined" data-value="0">0</b><span>records quarantined</span></div>
</div>
<h2>Records per second, last two minutes</h2>
<p><span class="legend-in">&#9644; in</span> &nbsp; <span class="legend-out">&#9644; out of the transform</span></p>
<svg id="rates" viewBox="0 0 600 160" preserveAspectRatio="none" role="img" aria-label="records in and out per second over the last two minutes">
<polyline class="in" fill="none" stroke-width="2" points=""></polyline>
<polyline class="out" fill="none" stroke-width="2" points=""></polyline>
</svg>
<h2>Quarantined by reason</h2>
<table><thead><tr><th>reason</th><th>records</th></tr></thead><tbody id="reasons"><tr><td colspan="2">none yet</td></tr></tbody></table>
<h2>Last events staged</h2>
<table><thead><tr><th>event</th><th>created_at</th><th>received_at</th><th>language</th><th>event_uuid</th></tr></thead><tbody id="last"><tr><td colspan="5">none yet</td></tr></tbody></table>
<script>
const fmt = (n) => Number(n).toLocaleString('en-US', { maximumFractionDigits: 1 });
const set = (id, value, text) => { const el = document.getElementById(id); el.dataset.value = value === null ? '' : String(value); el.textContent = text; };
const cell = (text) => { const td = document.createElement('td'); td.textContent = text; return td; };
function rows(id, list, columns, empty) {
  const body = document.getElementById(id);
  body.replaceChildren(...(list.length ? list.map((r) => { const tr = document.createElement('tr'); tr.append(...columns(r).map(cell)); return tr; })
    : [(() => { const tr = document.createElement('tr'); const td = cell(empty); td.colSpan = 5; tr.append(td); return tr; })()]));
}
function draw(history) {
  const max = Math.max(1, ...history.map((h) => Math.max(h.records_in_per_s, h.records_out_per_s)));
  const points = (key) => history.map((h, i) => (i * 600 / 119).toFixed(1) + ',' + (155 - 150 * h[key] / max).toFixed(1)).join(' ');
  document.querySelector('#rates .in').setAttribute('points', points('records_in_per_s'));
  document.querySelector('#rates .out').setAttribute('points', points('records_out_per_s'));
}
async function tick() {
  try {
    const s = await (await fetch('stats.json', { cache: 'no-store' })).json();
    set('records-in', s.totals.records_in, fmt(s.totals.records_in));
    set('records-out', s.totals.records_out, fmt(s.totals.records_out));
    set('rate-in', s.rates.records_in_per_s, fmt(s.rates.records_in_per_s));
    set('rate-out', s.rates.records_out_per_s, fmt(s.rates.records_out_per_s));
    set('backlog', s.backlog_bytes, fmt(s.backlog_bytes / 1024));
    set('invocations', s.totals.invocations, fmt(s.totals.invocations));
    set('latency-p50', s.latency_ms.p50, s.latency_ms.p50 === null ? '-' : (s.latency_ms.p50 / 1000).toFixed(2));
    set('latency-p99', s.latency_ms.p99, s.latency_ms.p99 === null ? '-' : (s.latency_ms.p99 / 1000).toFixed(2));
    set('staged', s.totals.staged, fmt(s.totals.staged));
    set('quarantined', s.totals.quarantined, fmt(s.totals.quarantined));
    rows('reasons', Object.entries(s.quarantined_by_reason), ([r, n]) => [r, fmt(n)], 'none yet');
    rows('last', s.last_staged, (e) => [e.event_name, e.created_at, e.received_at, e.language ?? '', e.event_uuid], 'none yet');
    draw(s.history);
    document.getElementById('updated').textContent = 'as of ' + s.at;
    document.getElementById('stale').textContent = '';
  } catch (e) {
    document.getElementById('stale').textContent = 'serve is not answering (stopped?)';
  }
}
tick();
setInterval(tick, 1000);
</script>
</body>
</html>
`;
