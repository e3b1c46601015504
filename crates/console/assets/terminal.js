// The console's browser terminal: xterm.js on the page's #terminal element, connected to the
// session's WebSocket (data-socket). Terminal bytes travel as binary frames both ways; text
// frames carry small JSON control messages: the browser sends {"type":"resize","cols","rows"},
// the console sends {"type":"exit",...} and {"type":"error","code","message"}.
(function () {
  "use strict";
  // xterm.js's renderer adds <style> elements; the page's Content-Security-Policy allows styles
  // carrying the nonce this script was loaded with, so every <style> made here gets it.
  var nonce = document.currentScript && document.currentScript.nonce;
  if (nonce) {
    var createElement = document.createElement.bind(document);
    document.createElement = function (name, options) {
      var element = createElement(name, options);
      if (String(name).toLowerCase() === "style") element.setAttribute("nonce", nonce);
      return element;
    };
  }

  function start() {
    var box = document.getElementById("terminal");
    var status = document.getElementById("terminal-status");
    if (!box || !window.Terminal || !window.FitAddon) return;
    var say = function (text) { status.textContent = text; };
    var told = false; // the console said why the session ended

    var term = new window.Terminal({ cursorBlink: true, scrollback: 5000 });
    var fit = new window.FitAddon.FitAddon();
    term.loadAddon(fit);
    term.open(box);
    fit.fit();

    var url = new URL(box.getAttribute("data-socket"), window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("cols", term.cols);
    url.searchParams.set("rows", term.rows);
    var socket = new WebSocket(url.toString());
    socket.binaryType = "arraybuffer";
    var encoder = new TextEncoder();
    var open = function () { return socket.readyState === WebSocket.OPEN; };

    socket.addEventListener("open", function () { say("Connected"); term.focus(); });
    socket.addEventListener("message", function (event) {
      if (typeof event.data !== "string") {
        term.write(new Uint8Array(event.data));
        return;
      }
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      if (message.type === "exit") {
        told = true;
        say(message.signal ? "The shell was ended by signal " + message.signal
                           : "The shell exited with status " + message.status);
      } else if (message.type === "error") {
        told = true;
        say(message.message);
      }
    });
    socket.addEventListener("close", function () {
      if (!told) say("Session ended");
    });

    term.onData(function (data) { if (open()) socket.send(encoder.encode(data)); });
    // Bytes that are not UTF-8 text (some mouse reports): one character per byte.
    term.onBinary(function (data) {
      if (!open()) return;
      var bytes = new Uint8Array(data.length);
      for (var i = 0; i < data.length; i++) bytes[i] = data.charCodeAt(i) & 255;
      socket.send(bytes);
    });
    term.onResize(function (size) {
      if (open()) socket.send(JSON.stringify({ type: "resize", cols: size.cols, rows: size.rows }));
    });
    window.addEventListener("resize", function () { fit.fit(); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
