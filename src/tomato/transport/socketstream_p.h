// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/core/endpoint.h>
#include <tomato/transport/stream_p.h>

#include <QtNetwork/QHostAddress>

class QHostInfo;
class QSocketNotifier;

namespace Tomato {

// A Stream over a plain kernel socket of its own: TCP or a Unix domain socket. No Qt socket
// sits in between: reads go with recv() from the kernel straight into the frame parser, and
// the descriptor is offered to the Outbox for direct writes from any thread. (A QTcpSocket
// adopting a descriptor would buffer every read in its own ring buffer first: a copy of
// every byte received.) Lives on its I/O thread.
//
// A connection that does not read in its readyRead() (flow control) is not woken again until
// it calls readInto(): the bytes stay in the kernel and cost no wake-ups.
class SocketStream final : public Stream
{
    Q_OBJECT
public:
    // Server side: an accepted descriptor, ready at once. `scheme` is "tcp" or "unix".
    static SocketStream *adopt(qintptr descriptor, const QString &scheme, QObject *parent);
    // Client side: connects to a tcp:// (host names are looked up first) or unix:// address;
    // ready() or closed() follow, never from inside this call. With `handOver`, the stream
    // only connects: once ready, takeDescriptor() gives the connected socket to another
    // stream (TLS speaks over it).
    static SocketStream *connectTo(const Endpoint &address, QObject *parent, bool handOver = false);
    int takeDescriptor();
    ~SocketStream() override;

    bool readInto(FrameParser &parser, qint64 maxBytes = NoLimit) override;
    qint64 write(const char *data, qint64 size) override;
    SharedWriter directWriter() const override { return m_writer; }
    void close() override;
    void abort() override;
    QString peer() const override { return m_peer; }

    // "tcp://10.0.0.5:51234" or "unix (pid 42, uid 1000)" for a connected descriptor.
    static QString describePeer(int descriptor, const QString &scheme);

private:
    SocketStream(const QString &scheme, QObject *parent);
    void connectUnix(const QString &path);
    void connectTcp(const QList<QHostAddress> &addresses, quint16 port);
    void onLookedUp(const QHostInfo &info, quint16 port);
    void onConnectDone();
    void becomeReady();
    void fail(const QString &why);
    void closeDescriptor();

    int m_fd = -1;             // the descriptor of m_writer, -1 once this stream let go of it
    SharedWriter m_writer;     // closes it when the Outbox lets go of it too
    QSocketNotifier *m_readable = nullptr;
    bool m_readCalled = false; // readInto() ran during the current readyRead()
    QSocketNotifier *m_connecting = nullptr; // client side, while a TCP connect is under way
    QList<QHostAddress> m_candidates;        // addresses not tried yet
    quint16 m_port = 0;
    QString m_scheme;
    QString m_peer;
    QString m_lastError;
    bool m_handOver = false;
};

} // namespace Tomato
