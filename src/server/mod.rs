//! HTTP service: `fn app(state) -> Router`, the speech API and the widget.
