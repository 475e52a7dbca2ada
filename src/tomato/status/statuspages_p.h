// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/status/nodeintrospection_p.h>

#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QVariant>
#include <memory>
#include <utility>

namespace Tomato {

// One HTTP answer, before the connection writes it (status line, Content-Type,
// Content-Length and `headers`, then the body; a HEAD request gets no body).
struct HttpReply
{
    int status = 200;
    QByteArray contentType;
    QByteArray body;
    QList<std::pair<QByteArray, QByteArray>> headers; // e.g. {"Allow", "GET, HEAD"}

    static QByteArray reasonPhrase(int status);
    // {"error": message} with the status (400, 404, 405, 431, ...).
    static HttpReply error(int status, const QString &message);
};

// The read-only status pages (docs/STATUS.md), as views of a node's introspection:
//   GET /tomato/status/invoker?service-id=X  Tomato-RPC's invoker page (+ statistics)
//   GET /tomato/status/services              published interfaces and methods
//   GET /tomato/status/node                  identity, readiness
//   GET /tomato/status/statistics            the server's counters
//   GET /tomato/status/ready                 200 ready / 503 starting or draining
//   GET /tomato/status/live                  200 while the process answers
//   GET /metrics                             Prometheus text format
//   GET /tomato/status                       the list of pages
// Other paths 404; methods other than GET and HEAD 405. Thread-safe (I/O threads call it).
class StatusPages
{
public:
    explicit StatusPages(std::shared_ptr<NodeIntrospection> node);

    // `target`: the request target as it arrived ("/tomato/status/invoker?service-id=a%20b").
    HttpReply handle(QByteArrayView method, QByteArrayView target) const;

    // JSON with object members in a fixed order: Tomato-RPC's invoker fields first
    // (protocol, host, port, microServiceId, stage, group), then the rest by name.
    static QByteArray toJson(const QVariant &value);

private:
    std::shared_ptr<NodeIntrospection> m_node;
};

} // namespace Tomato
