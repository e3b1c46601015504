//! The terminal page's front-end files, served from the binary: our own script and stylesheet,
//! the vendored xterm.js and asciinema-player (the report's recording viewer) (see assets/vendor/README.md for versions and licences).

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// (path, content type, body)
const FILES: [(&str, &str, &str); 8] = [
    ("/console/assets/terminal.js", JS, include_str!("../../assets/terminal.js")),
    ("/console/assets/terminal.css", CSS, include_str!("../../assets/terminal.css")),
    ("/console/assets/xterm.js", JS, include_str!("../../assets/vendor/xterm/xterm.js")),
    ("/console/assets/xterm.css", CSS, include_str!("../../assets/vendor/xterm/xterm.css")),
    ("/console/assets/addon-fit.js", JS, include_str!("../../assets/vendor/xterm/addon-fit.js")),
    ("/console/assets/player.js", JS, include_str!("../../assets/player.js")),
    (
        "/console/assets/asciinema-player.min.js",
        JS,
        include_str!("../../assets/vendor/asciinema-player/asciinema-player.min.js"),
    ),
    (
        "/console/assets/asciinema-player.css",
        CSS,
        include_str!("../../assets/vendor/asciinema-player/asciinema-player.css"),
    ),
];

pub(super) fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    FILES.iter().fold(Router::new(), |router, &(path, content_type, body)| {
        router.route(path, get(move || async move { file(content_type, body) }))
    })
}

fn file(content_type: &'static str, body: &'static str) -> Response {
    ([(CONTENT_TYPE, content_type), (CACHE_CONTROL, "public, max-age=3600")], body).into_response()
}
