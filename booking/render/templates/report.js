// The hover tip: any shape with data-tip shows it beside the pointer.
(function () {
  "use strict";
  var tip = document.getElementById("tip");
  function show(event) {
    var target = event.target.closest ? event.target.closest("[data-tip]") : null;
    if (!target) { tip.hidden = true; return; }
    tip.textContent = target.getAttribute("data-tip");
    tip.hidden = false;
    tip.style.left = Math.min(event.pageX + 12, document.documentElement.scrollWidth - 320) + "px";
    tip.style.top = (event.pageY + 14) + "px";
  }
  document.addEventListener("mouseover", show);
  document.addEventListener("mousemove", function (event) {
    if (!tip.hidden) { show(event); }
  });
  document.addEventListener("mouseleave", function () { tip.hidden = true; });
})();
// A link to a run inside a closed <details> opens it, so the timeline is in view.
(function () {
  "use strict";
  function reveal() {
    var id = location.hash.slice(1);
    try { id = decodeURIComponent(id); } catch (error) { return; }  // a malformed link
    var target = id ? document.getElementById(id) : null;
    for (var node = target; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") { node.open = true; }
    }
    if (target) { target.scrollIntoView(); }
  }
  window.addEventListener("hashchange", reveal);
  reveal();
})();
