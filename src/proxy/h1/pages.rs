//! HAProxy 2.6's built-in error pages (`errorfile` defaults, `http_err_msgs` in its
//! src/http.c), byte-exact as HAProxy writes them on an HTTP/1.1 client connection.

/// The response HAProxy 2.6 sends for `status` when a rule, the stream or the server
/// side produces it (`http-request deny`, no server, server timeout, bad response...):
/// the message goes through HTX, so header names are lowercase. 400 and 408 carry
/// `connection: close` (HAProxy closes after them). Statuses without a built-in page
/// get the 500 page, as HAProxy falls back to it.
pub fn error_response(status: u16) -> &'static [u8] {
    match status {
        // The `monitor-uri` answer.
        200 => concat!(
            "HTTP/1.1 200 OK\r\n",
            "content-length: 58\r\n",
            "cache-control: no-cache\r\n",
            "content-type: text/html\r\n",
            "\r\n",
            "<html><body><h1>200 OK</h1>\n",
            "Service ready.\n",
            "</body></html>\n",
        )
        .as_bytes(),
        400 => concat!(
            "HTTP/1.1 400 Bad request\r\n",
            "content-length: 90\r\n",
            "cache-control: no-cache\r\n",
            "content-type: text/html\r\n",
            "connection: close\r\n",
            "\r\n",
            "<html><body><h1>400 Bad request</h1>\n",
            "Your browser sent an invalid request.\n",
            "</body></html>\n",
        )
        .as_bytes(),
        401 => concat!(
            "HTTP/1.1 401 Unauthorized\r\n",
            "content-length: 112\r\n",
            "cache-control: no-cache\r\n",
            "content-type: text/html\r\n",
            "\r\n",
            "<html><body><h1>401 Unauthorized</h1>\n",
            "You need a valid user and password to access this content.\n",
            "</body></html>\n",
        )
        .as_bytes(),
        403 => concat!(
            "HTTP/1.1 403 Forbidden\r\n",
            "content-length: 93\r\n",
            "cache-control: no-cache\r\n",
            "content-type: text/html\r\n",
            "\r\n",
            "<html><body><h1>403 Forbidden</h1>\n",
            "Request forbidden by administrative rules.\n",
            "</body></html>\n",
        )
        .as_bytes(),
        404 => concat!(
            "HTTP/1.1 404 Not Found\r\n",
            "content-length: 83\r\n",
            "cache-control: no-cache\r\n",
            "content-type: text/html\r\n",
            "\r\n",
            "<html><body><h1>404 Not Found</h1>\n",
            "The resource could not be found.\n",
            "</body></html>\n",
        )
        .as_bytes(),
        405 => concat!(
            "HTTP/1.1 405 Method Not Allowed\r\n",
            "content-length: 146\r\n",
            "cache-control: no-cache\r\n",
            "content-type: text/html\r\n",
            "\r\n",
            "<html><body><h1>405 Method Not Allowed</h1>\n",
            "A request was made of a resource using a request method not supported by that resource\n",
            "</body></html>\n",
        )
        .as_bytes(),
        407 => concat!(
            "HTTP/1.1 407 Unauthorized\r\n",
            "content-length: 112\r\n",
            "cache-control: no-cache\r\n",
            "content-type: text/html\r\n",
            "\r\n",
            "<html><body><h1>407 Unauthorized</h1>\n",
            "You need a valid user and password to access this content.\n",
            "</body></html>\n",
        )
        .as_bytes(),
        408 => concat!(
            "HTTP/1.1 408 Request Time-out\r\n",
            "content-length: 110\r\n",
            "cache-control: no-cache\r\n",
            "content-type: text/html\r\n",
            "connection: close\r\n",
            "\r\n",
            "<html><body><h1>408 Request Time-out</h1>\n",
            "Your browser didn't send a complete request in time.\n",
            "</body></html>\n",
        )
        .as_bytes(),
        410 => concat!(
            "HTTP/1.1 410 Gone\r\n",
            "content-length: 114\r\n",
            "cache-control: no-cache\r\n",
            "content-type: text/html\r\n",
            "\r\n",
            "<html><body><h1>410 Gone</h1>\n",
            "The resource is no longer available and will not be available again.\n",
            "</body></html>\n",
        )
        .as_bytes(),
        413 => concat!(
            "HTTP/1.1 413 Payload Too Large\r\n",
            "content-length: 106\r\n",
            "cache-control: no-cache\r\n",
            "content-type: text/html\r\n",
            "\r\n",
            "<html><body><h1>413 Payload Too Large</h1>\n",
            "The request entity exceeds the maximum allowed.\n",
            "</body></html>\n",
        )
        .as_bytes(),
        422 => concat!(
            "HTTP/1.1 422 Unprocessable Content\r\n",
            "content-length: 116\r\n",
            "cache-control: no-cache\r\n",
            "content-type: text/html\r\n",
            "\r\n",
            "<html><body><h1>422 Unprocessable Content</h1>\n",
            "The server cannot process the contained instructions.\n",
            "</body></html>\n",
        )
        .as_bytes(),
        425 => concat!(
            "HTTP/1.1 425 Too Early\r\n",
            "content-length: 80\r\n",
            "cache-control: no-cache\r\n",
            "content-type: text/html\r\n",
            "\r\n",
            "<html><body><h1>425 Too Early</h1>\n",
            "Your browser sent early data.\n",
            "</body></html>\n",
        )
        .as_bytes(),
        429 => concat!(
            "HTTP/1.1 429 Too Many Requests\r\n",
            "content-length: 117\r\n",
            "cache-control: no-cache\r\n",
            "content-type: text/html\r\n",
            "\r\n",
            "<html><body><h1>429 Too Many Requests</h1>\n",
            "You have sent too many requests in a given amount of time.\n",
            "</body></html>\n",
        )
        .as_bytes(),
        500 => concat!(
            "HTTP/1.1 500 Internal Server Error\r\n",
            "content-length: 97\r\n",
            "cache-control: no-cache\r\n",
            "content-type: text/html\r\n",
            "\r\n",
            "<html><body><h1>500 Internal Server Error</h1>\n",
            "An internal server error occurred.\n",
            "</body></html>\n",
        )
        .as_bytes(),
        501 => concat!(
            "HTTP/1.1 501 Not Implemented\r\n",
            "content-length: 136\r\n",
            "cache-control: no-cache\r\n",
            "content-type: text/html\r\n",
            "\r\n",
            "<html><body><h1>501 Not Implemented</h1>\n",
            ".The server does not support the functionality required to fulfill the request.\n",
            "</body></html>\n",
        )
        .as_bytes(),
        502 => concat!(
            "HTTP/1.1 502 Bad Gateway\r\n",
            "content-length: 107\r\n",
            "cache-control: no-cache\r\n",
            "content-type: text/html\r\n",
            "\r\n",
            "<html><body><h1>502 Bad Gateway</h1>\n",
            "The server returned an invalid or incomplete response.\n",
            "</body></html>\n",
        )
        .as_bytes(),
        503 => concat!(
            "HTTP/1.1 503 Service Unavailable\r\n",
            "content-length: 107\r\n",
            "cache-control: no-cache\r\n",
            "content-type: text/html\r\n",
            "\r\n",
            "<html><body><h1>503 Service Unavailable</h1>\n",
            "No server is available to handle this request.\n",
            "</body></html>\n",
        )
        .as_bytes(),
        504 => concat!(
            "HTTP/1.1 504 Gateway Time-out\r\n",
            "content-length: 92\r\n",
            "cache-control: no-cache\r\n",
            "content-type: text/html\r\n",
            "\r\n",
            "<html><body><h1>504 Gateway Time-out</h1>\n",
            "The server didn't respond in time.\n",
            "</body></html>\n",
        )
        .as_bytes(),
        _ => error_response(500),
    }
}

/// The response HAProxy 2.6's HTTP/1 multiplexer writes itself when the request head
/// cannot be parsed (400), times out (408), is an HTTP/1.0 upgrade with a body (413) or
/// uses an unsupported transfer coding (422):
/// the raw built-in message, with capitalised header names, then the connection closes.
/// Other statuses fall back to [`error_response`].
pub fn parse_error_response(status: u16) -> &'static [u8] {
    match status {
        400 => concat!(
            "HTTP/1.1 400 Bad request\r\n",
            "Content-length: 90\r\n",
            "Cache-Control: no-cache\r\n",
            "Connection: close\r\n",
            "Content-Type: text/html\r\n",
            "\r\n",
            "<html><body><h1>400 Bad request</h1>\n",
            "Your browser sent an invalid request.\n",
            "</body></html>\n",
        )
        .as_bytes(),
        408 => concat!(
            "HTTP/1.1 408 Request Time-out\r\n",
            "Content-length: 110\r\n",
            "Cache-Control: no-cache\r\n",
            "Connection: close\r\n",
            "Content-Type: text/html\r\n",
            "\r\n",
            "<html><body><h1>408 Request Time-out</h1>\n",
            "Your browser didn't send a complete request in time.\n",
            "</body></html>\n",
        )
        .as_bytes(),
        413 => concat!(
            "HTTP/1.1 413 Payload Too Large\r\n",
            "Content-length: 106\r\n",
            "Cache-Control: no-cache\r\n",
            "Content-Type: text/html\r\n",
            "\r\n",
            "<html><body><h1>413 Payload Too Large</h1>\n",
            "The request entity exceeds the maximum allowed.\n",
            "</body></html>\n",
        )
        .as_bytes(),
        422 => concat!(
            "HTTP/1.1 422 Unprocessable Content\r\n",
            "Content-length: 116\r\n",
            "Cache-Control: no-cache\r\n",
            "Content-Type: text/html\r\n",
            "\r\n",
            "<html><body><h1>422 Unprocessable Content</h1>\n",
            "The server cannot process the contained instructions.\n",
            "</body></html>\n",
        )
        .as_bytes(),
        500 => concat!(
            "HTTP/1.1 500 Internal Server Error\r\n",
            "Content-length: 97\r\n",
            "Cache-Control: no-cache\r\n",
            "Content-Type: text/html\r\n",
            "\r\n",
            "<html><body><h1>500 Internal Server Error</h1>\n",
            "An internal server error occurred.\n",
            "</body></html>\n",
        )
        .as_bytes(),
        501 => concat!(
            "HTTP/1.1 501 Not Implemented\r\n",
            "Content-length: 136\r\n",
            "Cache-Control: no-cache\r\n",
            "Content-Type: text/html\r\n",
            "\r\n",
            "<html><body><h1>501 Not Implemented</h1>\n",
            ".The server does not support the functionality required to fulfill the request.\n",
            "</body></html>\n",
        )
        .as_bytes(),
        _ => error_response(status),
    }
}
