#pragma once
#include <tomato/core/endpoint.h>
#include <tomato/transport/stream_p.h>

class QTcpSocket;

namespace Tomato {

// A Stream over a plain kernel socket: TCP, or a Unix domain socket (QTcpSocket drives any
// stream socket descriptor, as QLocalSocket does on Unix). The socket is unbuffered: reads go
// from the kernel straight into the frame parser, and its descriptor is offered to the
// Outbox for direct writes. Lives on its I/O thread.
class SocketStream final : public Stream
{
    Q_OBJECT
public:
    // Server side: an accepted descriptor, ready at once. `scheme` is "tcp" or "unix".
    static SocketStream *adopt(qintptr descriptor, const QString &scheme, QObject *parent);
    // Client side: connects to a tcp:// or unix:// address; ready() or closed() follow.
    static SocketStream *connectTo(const Endpoint &address, QObject *parent);

    bool readInto(FrameParser &parser) override;
    qint64 write(const char *data, qint64 size) override;
    qintptr directWriteDescriptor() const override;
    void close() override;
    void abort() override;
    QString peer() const override { return m_peer; }

private:
    SocketStream(const QString &scheme, QObject *parent);
    void watchSocket();
    void onConnected();
    void connectUnix(const QString &path);
    QString describePeer() const;

    QTcpSocket *m_socket;
    QString m_scheme;
    QString m_peer;
    QString m_target; // client side: what we connect to, for errors
};

} // namespace Tomato
