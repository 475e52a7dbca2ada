// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/status/statuspages_p.h>
#include <tomato/transport/connectionlimits_p.h>
#include <tomato/wire/frameparser_p.h>

#include <QtCore/QObject>
#include <memory>

namespace Tomato {

class Stream;

// One HTTP/1.1 connection to the status pages, over a Stream of any transport: a connection
// to an RPC address whose first bytes were an HTTP request, or one to the status port.
// Requests are parsed with http-parser (libhttp-parser); read-only, small and bounded:
//  - request line + headers over 8 KiB: 431 (a request target alone over it: 414), a body: 413,
//    anything http-parser refuses: 400; each followed by closing the connection;
//  - keep-alive (HTTP/1.1 default, HTTP/1.0 with "Connection: keep-alive") and pipelined
//    requests, answered in order;
//  - a request that does not arrive whole within status-request-timeout-ms, or a connection
//    idle that long between requests, is closed (slow clients cannot hold it).
// Lives on the stream's I/O thread; deletes itself when the connection ends. Parent: the
// I/O thread's context object (a server stop deletes it with the RPC connections).
class HttpConnection : public QObject
{
    Q_OBJECT
public:
    // Takes the stream over (re-parents it). `received`: bytes already read from it (the start
    // of the first request, read while telling HTTP from RPC). `slot`: the connection's place in
    // its server's connection limits, held until it ends.
    HttpConnection(Stream *stream, QByteArray received, std::shared_ptr<const StatusPages> pages,
                   int requestTimeoutMs, QObject *parent, ConnectionSlot slot = {});
    ~HttpConnection() override;

    // Whether a connection's first bytes are the start of an HTTP request rather than a frame
    // (an upper-case ASCII letter: a method name; frames start with 0xAC).
    static bool looksLikeHttp(QByteArrayView start) { return !start.isEmpty() && start[0] >= 'A' && start[0] <= 'Z'; }

private:
    std::unique_ptr<class HttpConnectionPrivate> d;
    ConnectionSlot m_slot;
};

} // namespace Tomato
