/* Live duty queue: the server sends ids of changed incidents (SSE); the rows are fetched as
   server-rendered HTML and replaced, inserted in deadline order, or removed. */
(function () {
  "use strict";
  var table = document.getElementById("queue");
  if (!table) { return; }
  var live = document.getElementById("live");
  var query = table.dataset.query || "";
  var firstPage = (table.dataset.page || "1") === "1";
  var tbody = table.tBodies[0];

  function setLive(state, text) {
    if (live) { live.dataset.state = state; live.textContent = text; }
  }

  function dueOf(row) {
    var due = Date.parse(row.dataset.due || "");
    return isNaN(due) ? Infinity : due;
  }

  function insertSorted(row) {
    var due = dueOf(row);
    var rows = tbody.rows;
    for (var i = 0; i < rows.length; i++) {
      if (dueOf(rows[i]) > due) { tbody.insertBefore(row, rows[i]); return; }
    }
    tbody.appendChild(row);
  }

  function apply(data) {
    (data.gone || []).forEach(function (id) {
      var old = tbody.querySelector('tr[data-id="' + id + '"]');
      if (old) { old.remove(); }
    });
    Object.keys(data.rows || {}).forEach(function (id) {
      var tpl = document.createElement("template");
      tpl.innerHTML = data.rows[id].trim();
      var row = tpl.content.firstElementChild;
      var old = tbody.querySelector('tr[data-id="' + id + '"]');
      if (old) { old.remove(); } else if (!firstPage) { return; }
      insertSorted(row);
      row.classList.add("flash");
    });
    var total = document.getElementById("total");
    if (total && typeof data.total === "number") { total.textContent = data.total; }
    var counts = document.querySelectorAll("[data-level-count]");
    for (var i = 0; i < counts.length; i++) {
      counts[i].textContent = (data.level_counts || {})[counts[i].dataset.levelCount] || 0;
    }
    var alert = document.getElementById("source-alert");
    if (alert && typeof data.source_alert === "string") { alert.outerHTML = data.source_alert; }
    var empty = document.getElementById("empty");
    if (empty && tbody.rows.length) { empty.hidden = true; }
    window.monitor.tick();
  }

  function refresh(ids) {
    var url = "/queue/rows?ids=" + ids.join(",") + (query ? "&" + query : "");
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (resp) { return resp.ok ? resp.json() : null; })
      .then(function (data) { if (data) { apply(data); } })
      .catch(function () { setLive("offline", "更新失败，请刷新页面"); });
  }

  var source = new EventSource("/events");
  source.onopen = function () { setLive("online", "实时更新已连接"); };
  source.onerror = function () { setLive("offline", "实时更新中断，正在重连…"); };
  source.addEventListener("incidents", function (ev) {
    var ids = JSON.parse(ev.data).ids || [];
    if (ids.length) { refresh(ids); }
  });
  // Source health changes are not incident changes: look again once a minute.
  window.setInterval(function () { refresh([]); }, 60000);
})();
