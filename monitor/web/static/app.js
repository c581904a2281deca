/* Countdowns and the footer clock. Deadlines come from data-due attributes (ISO 8601);
   the page's data-server-now corrects for a wrong client clock. No inline script: CSP forbids it. */
(function () {
  "use strict";
  var serverNow = Date.parse(document.body.dataset.serverNow || "");
  var offset = isNaN(serverNow) ? 0 : serverNow - Date.now();

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function duration(ms) {
    var total = Math.floor(Math.abs(ms) / 1000);
    var days = Math.floor(total / 86400), hours = Math.floor((total % 86400) / 3600);
    var minutes = Math.floor((total % 3600) / 60), seconds = total % 60;
    var text = days ? days + "天" : "";
    if (days || hours) { text += hours + "小时"; }
    return text + pad(minutes) + "分" + pad(seconds) + "秒";
  }

  function tick() {
    var now = Date.now() + offset;
    var items = document.querySelectorAll(".countdown[data-due]");
    for (var i = 0; i < items.length; i++) {
      var el = items[i];
      var due = Date.parse(el.dataset.due);
      if (isNaN(due)) { continue; }
      var left = due - now;
      el.textContent = (left <= 0 ? "已超期 " : "剩余 ") + duration(left);
      el.classList.toggle("cd-overdue", left <= 0);
      el.classList.toggle("cd-soon", left > 0 && left <= 3600000);
      el.classList.toggle("cd-ok", left > 3600000);
    }
    var clock = document.getElementById("clock");
    if (clock) {
      var d = new Date(now + 8 * 3600000);  // Asia/Shanghai has no DST
      clock.textContent = d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " +
        pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds());
    }
  }

  // A second click (or Enter) while a POST form is on its way would record the action twice
  // (two notes, two responses): only the first submission of a form goes out. The lock ends when
  // the page is shown again (browser back) or after a while, in case the submission was stopped.
  var RESUBMIT_AFTER_MS = 30000;

  function unlock(form) {
    delete form.dataset.submitting;
    var buttons = form.querySelectorAll('button[type="submit"]');
    for (var i = 0; i < buttons.length; i++) { buttons[i].removeAttribute("aria-busy"); }
  }

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (ev.defaultPrevented || !form || (form.getAttribute("method") || "").toLowerCase() !== "post") { return; }
    if (form.dataset.submitting) { ev.preventDefault(); return; }
    form.dataset.submitting = "1";
    var buttons = form.querySelectorAll('button[type="submit"]');
    for (var i = 0; i < buttons.length; i++) { buttons[i].setAttribute("aria-busy", "true"); }
    window.setTimeout(function () { unlock(form); }, RESUBMIT_AFTER_MS);
  });
  window.addEventListener("pageshow", function () {
    var forms = document.querySelectorAll("form[data-submitting]");
    for (var i = 0; i < forms.length; i++) { unlock(forms[i]); }
  });

  window.monitor = {
    tick: tick,
    csrf: function () {
      var meta = document.querySelector('meta[name="csrf-token"]');
      return meta ? meta.getAttribute("content") : "";
    }
  };
  tick();
  setInterval(tick, 1000);
})();
