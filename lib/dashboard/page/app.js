// The dashboard page: one EventSource on /events, state in plain objects, DOM and uPlot charts redrawn at
// most once per animation frame. Every value from Kafka goes into the page as text (textContent), never HTML.
'use strict';
(function () {
  const MAX_SENSORS_CHARTED = 24;
  const MAX_ALERT_ROWS = 200;
  const $ = (id) => document.getElementById(id);

  let sensors = new Map(); // sensor_id -> Map(window start ms -> aggregate)
  let alerts = [];
  let stats = [];
  let dlq = { total: 0, counts: {} };
  let model = null;
  let kafka = null;
  let hello = null;
  let serverDown = false;
  const dirty = new Set();
  const fresh = new Set(); // sensors updated since the last table render

  function reset() {
    sensors = new Map();
    alerts = [];
    stats = [];
    dlq = { total: 0, counts: {} };
    model = null;
    for (const k of ['sensors', 'alerts', 'stats', 'dlq', 'model', 'kafka']) dirty.add(k);
    schedule();
  }

  let frame = 0;
  function schedule() {
    if (!frame) frame = requestAnimationFrame(render);
  }

  const fmt = (x, digits = 2) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits));
  const int = (x) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : Math.round(x).toLocaleString('en-US'));
  const hms = (v) => (v === null || v === undefined ? '–' : new Date(v).toISOString().slice(11, 19));

  function cell(tr, text, cls, attrs) {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    if (attrs) for (const [k, v] of Object.entries(attrs)) td.setAttribute(k, v);
    tr.appendChild(td);
    return td;
  }

  // ---- charts (uPlot) ------------------------------------------------------------------------------
  const palette = (i) => `hsl(${(i * 137.508) % 360}, 65%, 45%)`;
  const charts = {};

  function chartWidth(el) {
    return Math.max(300, el.clientWidth || el.parentElement.clientWidth - 32);
  }

  // Time-axis tick steps (seconds): whole seconds for the 1 s samples, whole windows for the 10 s windows.
  const SECOND_STEPS = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];
  const WINDOW_STEPS = SECOND_STEPS.filter((s) => s >= 10);

  function makeChart(key, el, seriesDefs, data, yLabel) {
    if (charts[key]) charts[key].destroy();
    const opts = {
      width: chartWidth(el),
      height: 220,
      scales: { x: { time: true } },
      series: [{}].concat(seriesDefs),
      axes: [{ incrs: key === 'temp' ? WINDOW_STEPS : SECOND_STEPS }, { label: yLabel, size: 70 }],
      legend: { live: false },
    };
    charts[key] = new uPlot(opts, data, el);
    charts[key]._signature = seriesDefs.map((s) => s.label).join('\n');
  }

  function updateChart(key, el, seriesDefs, data, yLabel) {
    const signature = seriesDefs.map((s) => s.label).join('\n');
    if (!charts[key] || charts[key]._signature !== signature) makeChart(key, el, seriesDefs, data, yLabel);
    else charts[key].setData(data);
  }

  function renderTemperature() {
    const ids = [...sensors.keys()].sort();
    const shown = ids.slice(0, MAX_SENSORS_CHARTED);
    const starts = new Set();
    for (const id of shown) for (const s of sensors.get(id).keys()) starts.add(s);
    const xs = [...starts].sort((a, b) => a - b);
    const data = [xs.map((s) => s / 1000)];
    for (const id of shown) {
      const w = sensors.get(id);
      data.push(xs.map((s) => (w.has(s) ? w.get(s).temperature_avg : null)));
    }
    if (shown.length) {
      updateChart(
        'temp',
        $('temp-chart'),
        shown.map((id, i) => ({ label: id, stroke: palette(i), width: 1.5, spanGaps: true, points: { size: 4 } })),
        data,
        '°C',
      );
    }
    $('temp-note').textContent = !ids.length
      ? 'waiting for aggregates: a window appears when the streaming job emits it'
      : ids.length > shown.length
        ? `showing ${shown.length} of ${ids.length} sensors`
        : `${ids.length} sensors, windows of the last ${Math.round((hello ? hello.history_ms : 300000) / 60000)} min of event time`;
  }

  function renderStatsCharts() {
    if (!stats.length) return;
    const t = stats.map((s) => s.t / 1000);
    updateChart(
      'rate',
      $('rate-chart'),
      [
        { label: 'readings in', stroke: '#2563eb', width: 1.5 },
        { label: 'aggregates', stroke: '#0f7b3f', width: 1.5 },
        { label: 'alerts', stroke: '#a15c00', width: 1.5 },
        { label: 'DLQ', stroke: '#b42318', width: 1.5 },
      ],
      [
        t,
        stats.map((s) => s.in_per_s),
        stats.map((s) => s.out_per_s.aggregates),
        stats.map((s) => s.out_per_s.alerts),
        stats.map((s) => s.out_per_s.dlq),
      ],
      'msg/s',
    );
    updateChart(
      'latency',
      $('latency-chart'),
      [
        { label: 'p50', stroke: '#0f7b3f', width: 1.5 },
        { label: 'p95', stroke: '#a15c00', width: 1.5 },
        { label: 'p99', stroke: '#b42318', width: 1.5 },
      ],
      [t, stats.map((s) => s.latency_ms.p50), stats.map((s) => s.latency_ms.p95), stats.map((s) => s.latency_ms.p99)],
      'ms',
    );
  }

  // ---- tables and cards ------------------------------------------------------------------------------
  function renderSensors() {
    const tbody = $('sensors').tBodies[0];
    const rows = [];
    for (const id of [...sensors.keys()].sort()) {
      const windows = sensors.get(id);
      let latest = null;
      for (const [start, a] of windows) if (!latest || start > Date.parse(latest.window_start)) latest = a;
      const tr = document.createElement('tr');
      tr.dataset.sensor = id;
      if (fresh.has(id)) tr.className = 'fresh';
      const at = (field) => ({ 'data-sensor': id, 'data-field': field });
      cell(tr, id);
      cell(tr, `${hms(latest.window_start)}–${hms(latest.window_end)}`);
      cell(tr, String(latest.readings), 'num', at('readings'));
      cell(tr, fmt(latest.temperature_avg), 'num', at('temperature_avg'));
      cell(tr, `${fmt(latest.temperature_min)}–${fmt(latest.temperature_max)}`, 'num', at('temperature_range'));
      cell(tr, fmt(latest.humidity_avg, 1), 'num', at('humidity_avg'));
      cell(tr, fmt(latest.pressure_avg, 1), 'num', at('pressure_avg'));
      cell(tr, latest.final === false ? 'running' : 'final');
      rows.push(tr);
    }
    fresh.clear();
    tbody.replaceChildren(...rows);
    $('sensor-count').textContent = String(sensors.size);
  }

  function renderAlerts() {
    const tbody = $('alerts').tBodies[0];
    const rows = alerts
      .slice(-MAX_ALERT_ROWS)
      .reverse()
      .map((a) => {
        const tr = document.createElement('tr');
        tr.dataset.sensor = a.sensor_id;
        tr.dataset.rule = a.rule;
        cell(tr, hms(a.ts));
        cell(tr, a.sensor_id);
        cell(tr, a.rule, `rule-${a.rule}`);
        cell(tr, a.metric);
        cell(tr, fmt(a.value), 'num');
        cell(tr, a.zscore === null || a.zscore === undefined ? '–' : fmt(a.zscore), 'num');
        return tr;
      });
    tbody.replaceChildren(...rows);
    $('alerts-empty').hidden = alerts.length > 0;
    $('alerts-note').textContent = alerts.length > MAX_ALERT_ROWS ? `(newest ${MAX_ALERT_ROWS})` : '';
  }

  function renderDlq() {
    const tbody = $('dlq').tBodies[0];
    const rows = Object.entries(dlq.counts)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([reason, n]) => {
        const tr = document.createElement('tr');
        tr.dataset.reason = reason;
        cell(tr, reason);
        cell(tr, n.toLocaleString('en-US'), 'num');
        return tr;
      });
    tbody.replaceChildren(...rows);
    $('dlq-empty').hidden = rows.length > 0;
  }

  function renderModel() {
    const m = model || { present: false };
    const set = (id, text) => ($(id).textContent = text);
    if (!m.present) {
      for (const id of ['model-n', 'model-events', 'model-skipped', 'model-auc', 'model-train-auc', 'model-features', 'model-updated'])
        set(id, '–');
      set('model-note', `${m.error || 'no model yet'}${m.path ? ` (${m.path})` : ''}`);
      return;
    }
    set('model-n', int(m.n));
    set('model-events', int(m.events_applied));
    set('model-skipped', `${int(m.events_skipped)} / ${int(m.tombstones)} / ${int(m.dlq)}`);
    set('model-auc', fmt(m.auc, 3));
    set('model-train-auc', fmt(m.train_auc, 3));
    set('model-features', `${m.features ?? '–'} / ${m.lambda ?? '–'}`);
    set('model-updated', m.updated_at ? `${m.updated_at.replace('T', ' ').slice(0, 19)} UTC` : '–');
    set('model-note', m.path);
  }

  function renderStats() {
    const s = stats[stats.length - 1];
    if (!s) return;
    $('in-rate').textContent = s.in_per_s === null ? '–' : int(s.in_per_s);
    $('out-rate').textContent = fmt(s.out_per_s.aggregates, 1);
    $('latency').textContent = s.latency_ms.count ? `${int(s.latency_ms.p50)} / ${int(s.latency_ms.p95)} ms` : '–';
    $('alert-count').textContent = int(s.totals.alerts);
    $('dlq-total').textContent = int(s.totals.dlq);
  }

  function renderKafka() {
    const badge = $('kafka-status');
    if (serverDown) {
      badge.className = 'badge bad';
      badge.textContent = 'dashboard server unreachable: reconnecting…';
      return;
    }
    if (!kafka) return;
    if (kafka.state === 'connected') {
      badge.className = 'badge ok';
      badge.textContent = `Kafka connected · ${kafka.bootstrap_servers}`;
    } else if (kafka.state === 'connecting') {
      badge.className = 'badge wait';
      badge.textContent = `connecting to Kafka at ${kafka.bootstrap_servers}…`;
    } else {
      badge.className = 'badge bad';
      badge.textContent = `Kafka unreachable — reconnecting (${kafka.failures} failed attempts): ${kafka.error || ''}`;
    }
    badge.title = kafka.error || '';
    $('topics').textContent = kafka.topics.length
      ? `topics: ${kafka.topics.join(', ')}`
      : 'no topics yet (waiting for the streaming job to create them)';
  }

  function render() {
    frame = 0;
    if (dirty.has('kafka')) renderKafka();
    if (dirty.has('sensors')) {
      renderSensors();
      renderTemperature();
    }
    if (dirty.has('alerts')) renderAlerts();
    if (dirty.has('dlq')) renderDlq();
    if (dirty.has('model')) renderModel();
    if (dirty.has('stats')) {
      renderStats();
      renderStatsCharts();
    }
    dirty.clear();
    if (!window.__firstAggregatePainted && sensors.size) {
      window.__firstAggregatePainted = true;
      performance.mark('first-aggregate-painted');
    }
  }

  // ---- events ----------------------------------------------------------------------------------------
  const events = new EventSource('/events');
  const on = (type, fn) =>
    events.addEventListener(type, (e) => {
      fn(JSON.parse(e.data));
      schedule();
    });
  on('hello', (h) => {
    hello = h;
    serverDown = false;
    reset();
  });
  on('kafka', (k) => {
    kafka = k;
    dirty.add('kafka');
  });
  on('aggregate', (a) => {
    const start = Date.parse(a.window_start);
    let w = sensors.get(a.sensor_id);
    if (!w) sensors.set(a.sensor_id, (w = new Map()));
    const prev = w.get(start);
    if (!prev || prev.last_event_ts <= a.last_event_ts || (a.final && !prev.final)) w.set(start, a);
    // Keep the same event-time history as the server.
    const cutoff = start - (hello ? hello.history_ms : 300000);
    for (const k of w.keys()) if (k < cutoff) w.delete(k);
    fresh.add(a.sensor_id);
    dirty.add('sensors');
  });
  on('alert', (a) => {
    alerts.push(a);
    if (alerts.length > 1000) alerts = alerts.slice(-MAX_ALERT_ROWS);
    dirty.add('alerts');
  });
  on('dlq', (d) => {
    dlq = d;
    dirty.add('dlq');
  });
  on('model', (m) => {
    model = m;
    dirty.add('model');
  });
  on('stats', (s) => {
    stats.push(s);
    if (stats.length > 600) stats = stats.slice(-600);
    dirty.add('stats');
  });
  events.addEventListener('error', () => {
    serverDown = events.readyState !== EventSource.OPEN;
    dirty.add('kafka');
    schedule();
  });

  // ---- reports ---------------------------------------------------------------------------------------
  let reportsSeen = '';
  function renderReports(r) {
    const root = $('reports');
    const sections = [];
    for (const [key, rep] of [
      ['bench', r.bench],
      ['run', r.run],
    ]) {
      const sec = document.createElement('section');
      const h = document.createElement('h3');
      sec.appendChild(h);
      if (!rep) {
        h.textContent = key === 'bench' ? 'make bench' : 'make run';
        const p = document.createElement('p');
        p.className = 'muted';
        p.textContent = `no report yet (run \`make ${key}\`; it writes into ${r.reports_dir}/${key}/)`;
        sec.appendChild(p);
        sections.push(sec);
        continue;
      }
      h.textContent = `${rep.title} · ${rep.dir} · ${rep.updated_at.replace('T', ' ').slice(0, 19)} UTC`;
      const ul = document.createElement('ul');
      for (const l of rep.links) {
        const li = document.createElement('li');
        const a = document.createElement('a');
        a.href = l.href;
        a.textContent = l.name;
        a.target = '_blank';
        li.appendChild(a);
        ul.appendChild(li);
      }
      sec.appendChild(ul);
      const svgs = document.createElement('div');
      svgs.className = 'svgs';
      for (const s of rep.svgs) {
        const fig = document.createElement('figure');
        const img = document.createElement('img');
        img.src = s.href;
        img.alt = s.name;
        img.loading = 'lazy';
        const cap = document.createElement('figcaption');
        cap.textContent = s.name;
        fig.append(img, cap);
        svgs.appendChild(fig);
      }
      sec.appendChild(svgs);
      sections.push(sec);
    }
    root.replaceChildren(...sections);
  }
  async function loadReports() {
    try {
      const res = await fetch('/api/reports', { cache: 'no-store' });
      const text = await res.text();
      if (text !== reportsSeen) {
        reportsSeen = text;
        renderReports(JSON.parse(text));
      }
    } catch {
      // The server is down: the badge says so; the next poll tries again.
    }
  }
  loadReports();
  setInterval(loadReports, 30000);

  setInterval(() => {
    $('clock').textContent = `${new Date().toISOString().slice(11, 19)} UTC`;
  }, 1000);
  window.addEventListener('resize', () => {
    for (const [key, c] of Object.entries(charts)) {
      const el = { temp: $('temp-chart'), rate: $('rate-chart'), latency: $('latency-chart') }[key];
      c.setSize({ width: chartWidth(el), height: 220 });
    }
  });
})();
