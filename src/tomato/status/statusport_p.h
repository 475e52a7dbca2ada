// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <QtCore/QString>
#include <memory>

namespace Tomato {

// The status pages on a port of their own (status-port), plain HTTP, for processes that do
// not serve RPC (a client-only application) or that keep status off their RPC addresses. It
// shows the whole process (every server and client part). One listener per port in the
// process, shared by whoever asks for the same port (an RpcServer and an RpcClient with one
// configuration), closed when the last holder lets go. Has its own I/O thread.
class StatusPort
{
public:
    // Listens on host:port (host as the `host` key: "0.0.0.0", "127.0.0.1", "::"), or returns
    // null with *error. `requestTimeoutMs`: status-request-timeout-ms; `maxConnections`:
    // status-max-connections (more are answered 503).
    static std::shared_ptr<StatusPort> open(const QString &host, quint16 port, int requestTimeoutMs, int maxConnections,
                                            QString *error);
    ~StatusPort();
    quint16 port() const;

private:
    StatusPort();
    std::unique_ptr<class StatusPortPrivate> d;
};

} // namespace Tomato
