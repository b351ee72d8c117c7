// The countdown of a timed page (mock interviews, quiz attempts). The server keeps the clock
// and refuses late answers; this only counts down from the seconds the server said were left,
// announces a few milestones to screen readers (in the element `<timer id>-alert`), and opens
// `data-expired-url` a little after zero, when the server's own clock has passed the deadline.
(function () {
  "use strict";

  var pad = function (n) { return (n < 10 ? "0" : "") + n; };
  var format = function (seconds) {
    var h = Math.floor(seconds / 3600);
    var m = Math.floor((seconds % 3600) / 60);
    var s = seconds % 60;
    return h ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
  };

  document.querySelectorAll("[role=timer][data-seconds-left]").forEach(function (timer) {
    var alertBox = document.getElementById(timer.id + "-alert");
    // A monotonic clock from the page's load: the learner's wall clock may be wrong.
    var end = performance.now() + Number(timer.dataset.secondsLeft) * 1000;
    var milestones = [300, 60, 30];
    var reloaded = false;
    var tick = function () {
      var left = Math.max(0, Math.ceil((end - performance.now()) / 1000));
      timer.textContent = format(left);
      while (milestones.length && left <= milestones[0]) {
        var mark = milestones.shift();
        if (alertBox && left > 0 && left > mark - 5) {
          alertBox.textContent = mark >= 60 ? (mark / 60) + " minute" + (mark > 60 ? "s" : "") + " left" : mark + " seconds left";
        }
      }
      if (left <= 0) {
        timer.classList.add("timer-done");
        if (alertBox) alertBox.textContent = "Time is up.";
        if (!reloaded) {
          reloaded = true;
          setTimeout(function () { window.location.assign(timer.dataset.expiredUrl); }, 700);
        }
        return;
      }
      if (left <= 60) timer.classList.add("timer-low");
      setTimeout(tick, 250);
    };
    tick();
  });
})();
