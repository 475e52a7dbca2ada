#pragma once
#include <tomato/wire/extension.h>
#include <tomato/wire/frameparser.h>

#include <QtCore/QDeadlineTimer>
#include <QtNetwork/QTcpSocket>

// A hand-driven protocol peer for tests: writes whatever bytes it is told, and reads frames
// back with a deadline. Used on the test thread only.
class RawClient
{
public:
    bool connectTo(quint16 port)
    {
        m_socket.connectToHost(QStringLiteral("127.0.0.1"), port);
        return m_socket.waitForConnected(5000);
    }
    void write(const QByteArray &bytes)
    {
        m_socket.write(bytes);
        m_socket.waitForBytesWritten(5000);
    }
    void request(quint64 id, const QByteArray &service, const QByteArray &method,
                 const QByteArray &body, quint8 serialization = 1)
    {
        Tomato::Extension ext;
        ext.insert("service", service);
        ext.insert("method", method);
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
            if (m_socket.bytesAvailable() == 0
                && !m_socket.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime()))))
                return std::nullopt;
            m_parser.append(m_socket.readAll());
        }
    }
    // True once the peer has closed the connection (waits up to ms).
    bool waitForClose(int ms = 5000)
    {
        QDeadlineTimer deadline(ms);
        while (m_socket.state() == QAbstractSocket::ConnectedState && !deadline.hasExpired()) {
            if (!m_socket.waitForReadyRead(int(qMax<qint64>(1, deadline.remainingTime()))))
                break;
            m_socket.readAll();
        }
        return m_socket.state() != QAbstractSocket::ConnectedState;
    }
    static Tomato::Extension extension(const Tomato::Frame &f)
    {
        Tomato::Extension ext;
        QString error;
        Tomato::Extension::decode(f.extension, &ext, &error);
        return ext;
    }
    QTcpSocket &socket() { return m_socket; }

private:
    QTcpSocket m_socket;
    Tomato::FrameParser m_parser;
};
