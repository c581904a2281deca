/* Incident page: say when this incident changed elsewhere (never reload by itself: a half-filled
   form must not be lost). */
(function () {
  "use strict";
  var head = document.querySelector("[data-incident]");
  var notice = document.getElementById("changed");
  if (!head || !notice) { return; }
  var id = parseInt(head.dataset.incident, 10);
  var source = new EventSource("/events");
  source.addEventListener("incidents", function (ev) {
    var ids = JSON.parse(ev.data).ids || [];
    if (ids.indexOf(id) !== -1) { notice.hidden = false; }
  });
})();
