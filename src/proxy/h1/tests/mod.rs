//! Unit tests of the HTTP/1 layer, one file per concern.
