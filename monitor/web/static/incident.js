/* Incident page: when this incident changes (an action here or elsewhere, the clock engine, a
   notification), the server-rendered facts, obligations and timeline are fetched and replaced in
   place. The action forms are never touched: a half-filled form must not be lost. */
(function () {
  "use strict";
  var head = document.querySelector("[data-incident]");
  var notice = document.getElementById("changed");
  if (!head) { return; }
  var id = parseInt(head.dataset.incident, 10);
  var parts = { facts: "facts", obligations: "obligations", timeline: "timeline-body", responses: "responses" };
  var busy = false, again = false;

  function apply(data) {
    Object.keys(parts).forEach(function (name) {
      var el = document.getElementById(parts[name]);
      if (el && typeof data[name] === "string") { el.innerHTML = data[name]; }
    });
    if (notice) { notice.hidden = false; }
    if (window.monitor) { window.monitor.tick(); }
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch("/incidents/" + id + "/live", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (resp) { return resp.ok ? resp.json() : null; })
      .then(function (data) { if (data) { apply(data); } })
      .catch(function () { if (notice) { notice.hidden = false; } })
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  var source = new EventSource("/events");
  source.addEventListener("incidents", function (ev) {
    var ids = JSON.parse(ev.data).ids || [];
    if (ids.indexOf(id) !== -1) { refresh(); }
  });
})();
