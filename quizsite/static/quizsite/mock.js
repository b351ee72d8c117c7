// The mock interview's start form: "Select all" and "Clear all" topics. (The review still being
// graded fills in by itself through live.js.)
(function () {
  "use strict";

  var toggle = document.querySelector(".mock-toggle");
  if (!toggle) return;
  toggle.hidden = false;
  toggle.addEventListener("click", function (event) {
    var which = event.target.dataset && event.target.dataset.topics;
    if (!which) return;
    document.querySelectorAll('input[name="topic"]').forEach(function (box) { box.checked = which === "all"; });
  });
})();
