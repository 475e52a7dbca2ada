// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/core/endpoint.h>
#include <tomato/wire/extension_p.h>
#include <tomato/wire/frameparser_p.h>

#include <QtCore/QDeadlineTimer>
#include <QtNetwork/QSslConfiguration>
#include <QtNetwork/QSslSocket>
#include <QtNetwork/QTcpSocket>

#include <cstring>
#include <memory>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

// A hand-driven protocol peer for tests: writes whatever bytes it is told, and reads frames
// back with a deadline, over tcp://, tls:// or unix:// (a QTcpSocket on the Unix socket's
// descriptor, so every QTcpSocket call works the same). Used on the test thread only.
class RawClient
{
public:
    // `caFile`: the CA a tls:// server's certificate must chain to.
    bool connectTo(const Tomato::Endpoint &address, const QString &caFile = {})
    {
        if (address.scheme() == QLatin1String("unix"))
            return connectUnix(address.path());
        if (address.scheme() == QLatin1String("tls")) {
            auto *ssl = new QSslSocket;
            m_socket.reset(ssl);
            QSslConfiguration config = ssl->sslConfiguration();
            config.setCaCertificates(QSslCertificate::fromPath(caFile));
            ssl->setSslConfiguration(config);
            ssl->connectToHostEncrypted(address.host(), address.port());
            return ssl->waitForEncrypted(5000);
        }
        m_socket = std::make_unique<QTcpSocket>();
        m_socket->connectToHost(address.host(), address.port());
        return m_socket->waitForConnected(5000);
    }
    void write(const QByteArray &bytes)
    {
        m_socket->write(bytes);
        m_socket->waitForBytesWritten(5000);
    }
    // A Request frame; `timeoutMs` > 0 adds the `timeout-ms` entry.
    void request(quint64 id, const QByteArray &service, const QByteArray &method,
                 const QByteArray &body, quint8 serialization = 1, int timeoutMs = 0)
    {
        Tomato::Extension ext;
        ext.insert("service", service);
        ext.insert("method", method);
        if (timeoutMs > 0)
            ext.insert("timeout-ms", QByteArray::number(timeoutMs));
        QByteArray out;
        Tomato::Frame::encode(out, Tomato::Frame::Request, serialization, id, ext.encode(), body);
        write(out);
    }
    // The next frame, or nothing if none came before the deadline or the peer closed.
    std::optional<Tomato::Frame> readFrame(int ms = 5000)
    {
        QDeadlineTimer deadline(ms);
        while (true) {
            const auto r = m_parser.next();
            if (r == Tomato::FrameParser::Frame)
                return m_parser.takeFrame();
            if (r != Tomato::FrameParser::NeedMore || deadline.hasExpired())
                return std::nullopt;
            if (m_socket->bytesAvailable() == 0
                && !m_socket->waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime()))))
                return std::nullopt;
            m_parser.append(m_socket->readAll());
        }
    }
    // True once the peer has closed the connection (waits up to ms).
    bool waitForClose(int ms = 5000)
    {
        QDeadlineTimer deadline(ms);
        while (m_socket->state() == QAbstractSocket::ConnectedState && !deadline.hasExpired()) {
            if (!m_socket->waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime()))))
                break;
            m_socket->readAll();
        }
        return m_socket->state() != QAbstractSocket::ConnectedState;
    }
    static Tomato::Extension extension(const Tomato::Frame &f)
    {
        Tomato::Extension ext;
        QString error;
        Tomato::Extension::decode(f.extension, &ext, &error);
        return ext;
    }
    QTcpSocket &socket() { return *m_socket; }

private:
    bool connectUnix(const QString &path)
    {
        const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        const QByteArray p = path.toLocal8Bit();
        std::memcpy(addr.sun_path, p.constData(), size_t(qMin<qsizetype>(p.size(), sizeof(addr.sun_path) - 1)));
        if (::connect(fd, reinterpret_cast<const sockaddr *>(&addr), sizeof(addr)) != 0) {
            ::close(fd);
            return false;
        }
        m_socket = std::make_unique<QTcpSocket>();
        return m_socket->setSocketDescriptor(fd);
    }

    std::unique_ptr<QTcpSocket> m_socket;
    Tomato::FrameParser m_parser;
};
