/* Live leader view: when an incident changes (server-sent events, the same stream as the queue),
   or once a minute (time alone brings deadlines into the window and makes them overdue), the
   server-rendered rows are fetched from /leader/rows and swapped in. The 确认收到 buttons are plain
   forms, so they keep working in the swapped rows. */
(function () {
  "use strict";
  var table = document.getElementById("leader");
  if (!table) { return; }
  var tbody = table.tBodies[0];
  var live = document.getElementById("live");
  var url = table.dataset.rows || "/leader/rows";
  var busy = false, again = false;
  var PERIOD_MS = 60000;

  function setLive(state, text) {
    if (live) { live.dataset.state = state; live.textContent = text; }
  }

  function apply(data) {
    var before = {};
    var old = tbody.querySelectorAll("tr[data-obligation]");
    for (var i = 0; i < old.length; i++) { before[old[i].dataset.obligation] = old[i].dataset.acked || ""; }
    tbody.innerHTML = data.html;
    var rows = tbody.querySelectorAll("tr[data-obligation]");
    for (var j = 0; j < rows.length; j++) {
      var key = rows[j].dataset.obligation;
      if (!(key in before) || before[key] !== (rows[j].dataset.acked || "")) { rows[j].classList.add("flash"); }
    }
    var overdue = document.getElementById("overdue");
    if (overdue) { overdue.textContent = data.overdue; }
    ["escalated", "supervised"].forEach(function (key) {
      var el = document.getElementById(key);
      if (el && data[key] !== undefined) { el.textContent = data[key]; }
    });
    var count = document.getElementById("due-count");
    if (count) { count.textContent = data.count; }
    if (window.monitor) { window.monitor.tick(); }
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (resp) { return resp.ok ? resp.json() : null; })
      .then(function (data) { if (data) { apply(data); } })
      .catch(function () { setLive("offline", "更新失败，请刷新页面"); })
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  var source = new EventSource("/events");
  source.onopen = function () { setLive("online", "实时更新已连接"); };
  source.onerror = function () { setLive("offline", "实时更新中断，正在重连…"); };
  source.addEventListener("incidents", function (ev) {
    var ids = JSON.parse(ev.data).ids || [];
    if (ids.length) { refresh(); }
  });
  setInterval(refresh, PERIOD_MS);
})();
