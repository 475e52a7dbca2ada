// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/core/tomato_export.h>
#include <QtCore/QSharedDataPointer>
#include <QtCore/QString>

namespace Tomato {

class EndpointData;

// Where a server listens or a client connects: a transport scheme and its address.
//   tcp://host:port      plain TCP (the scheme a bare "host:port" gets by default)
//   tls://host:port      TLS over TCP
//   unix:///path/to.sock a Unix domain socket (same host only)
// IPv6 hosts are written in brackets: tcp://[::1]:4567. Port 0 means "any free port" when
// listening and is refused for connecting. A plain value, implicitly shared; any thread.
class TOMATO_EXPORT Endpoint
{
public:
    Endpoint(); // invalid
    Endpoint(const QString &scheme, const QString &host, quint16 port);
    static Endpoint unixSocket(const QString &path);
    Endpoint(const Endpoint &other);
    Endpoint &operator=(const Endpoint &other);
    ~Endpoint();

    // Parses the forms above; text without "://" is host:port of `defaultScheme`. An invalid
    // endpoint (and *error, when given, says why) for anything else: a missing or bad port,
    // an empty host, a relative Unix socket path, a scheme with nothing after it.
    static Endpoint fromString(const QString &text, const QString &defaultScheme = QStringLiteral("tcp"),
                               QString *error = nullptr);

    bool isValid() const;
    QString scheme() const;
    QString host() const;   // empty for a Unix socket
    quint16 port() const;
    QString path() const;   // a Unix socket's path, else empty
    bool hasPath() const;   // addressed by a path (unix://), not by host and port
    // "host:port" (IPv6 in brackets), or the path.
    QString authority() const;
    // The canonical text: fromString(toString()) == *this.
    QString toString() const;

    bool operator==(const Endpoint &other) const;
    bool operator!=(const Endpoint &other) const { return !(*this == other); }

private:
    QSharedDataPointer<EndpointData> d;
};

} // namespace Tomato
