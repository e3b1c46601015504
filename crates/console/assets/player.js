// The access session report's recording player: asciinema-player on the element that names
// the recording's URL (no inline script: the page's policy allows 'self' scripts only).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var el = document.getElementById("player");
  if (!el || !window.AsciinemaPlayer) return;
  window.AsciinemaPlayer.create(el.dataset.src, el, { fit: "width", idleTimeLimit: 2, preload: true, poster: "npt:0:2" });
});
