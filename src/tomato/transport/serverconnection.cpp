#include <tomato/transport/serverconnection_p.h>

#include <tomato/core/logging_p.h>
#include <tomato/server/servercore_p.h>
#include <tomato/serialization/marshal.h>
#include <tomato/transport/outbox_p.h>
#include <tomato/transport/socketio_p.h>
#include <tomato/wire/extension.h>

#include <QtCore/QTimer>

#include <algorithm>
#include <unistd.h>

namespace Tomato {

ServerConnection::ServerConnection(qintptr descriptor, std::shared_ptr<ServerCore> core,
                                   QObject *parent)
    : QObject(parent),
      m_core(std::move(core)),
      m_socket(new QTcpSocket(this)),
      m_parser(m_core->maxFrameBytes),
      m_outbox(std::make_shared<Outbox>(this, [this] { flush(); })),
      m_lastActivity(std::chrono::steady_clock::now())
{
    m_core->connections.fetch_add(1);
    m_core->connectionsAccepted.fetch_add(1, std::memory_order_relaxed);
    // Unbuffered: reads go straight from the kernel into the parser and writes straight to
    // the kernel, with no copy into QTcpSocket buffers in between.
    if (!m_socket->setSocketDescriptor(descriptor, QAbstractSocket::ConnectedState,
                                       QIODevice::ReadWrite | QIODevice::Unbuffered)) {
        qCWarning(lcTransport) << "cannot adopt accepted socket:" << m_socket->errorString();
        ::close(int(descriptor));
        QMetaObject::invokeMethod(this, &QObject::deleteLater, Qt::QueuedConnection);
        return;
    }
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    m_outbox->attachSocket(m_socket->socketDescriptor());
    connect(m_socket, &QTcpSocket::readyRead, this, &ServerConnection::onReadyRead);
    // The peer closing its side (Qt may notice before we read EOF) ends the connection only
    // once what it sent is answered: a half-closed peer still reads.
    connect(m_socket, &QTcpSocket::disconnected, this, [this] {
        if (m_peerClosed)
            return;
        m_peerClosed = true;
        m_peerClosedAt = std::chrono::steady_clock::now();
        finishWhenAnswered();
    });
    if (m_socket->bytesAvailable() > 0)
        onReadyRead();
}

ServerConnection::~ServerConnection()
{
    stopWatching(m_writable);
    m_outbox->close();
    // Calls not started yet have nobody to answer to: drop them.
    for (const auto &entry : m_calls) {
        if (auto call = entry.second.lock()) {
            int expected = ServerCall::Queued;
            call->state.compare_exchange_strong(expected, ServerCall::Cancelled);
        }
    }
    m_core->connections.fetch_sub(1);
}

void ServerConnection::closeIfIdle(std::chrono::steady_clock::time_point now,
                                   std::chrono::milliseconds limit)
{
    if (now - m_lastActivity >= limit) {
        qCInfo(lcTransport) << "closing idle connection from" << m_socket->peerAddress().toString();
        m_socket->abort();
        deleteLater();
    }
}

qint64 ServerConnection::outboxLimit() const
{
    return 2 * m_core->maxFrameBytes;
}

bool ServerConnection::overloaded() const
{
    return m_load->load() >= ServerCall::MaxLoad || m_outbox->pendingBytes() > outboxLimit();
}

// Flow control: a peer that sends more than we answer, or does not read its answers, must
// not make us buffer without bound. Past the limits, frames stay unparsed in the parser and
// new bytes stay in the kernel (an unbuffered socket stays quiet until read); flush() reads
// on once answers drain.
bool ServerConnection::processFrames()
{
    while (!m_closing) {
        if (overloaded()) {
            m_readPaused = true;
            return false;
        }
        switch (m_parser.next()) {
        case FrameParser::NeedMore:
            return true;
        case FrameParser::Frame:
            handleFrame(m_parser.takeFrame());
            break;
        case FrameParser::TooLarge:
            m_core->protocolErrors.fetch_add(1, std::memory_order_relaxed);
            ServerCore::respondError(*m_outbox, m_parser.frame().messageId,
                                     m_parser.frame().serialization, RpcError::FrameTooLarge,
                                     m_parser.errorString());
            break;
        case FrameParser::Corrupt:
            protocolError(m_parser.errorCode(), m_parser.errorString(), 0);
            return false;
        }
    }
    return false;
}

void ServerConnection::onReadyRead()
{
    if (m_closing)
        return;
    if (!processFrames() || m_peerClosed) // frames already buffered come first
        return;
    m_lastActivity = std::chrono::steady_clock::now();
    const bool open = readAvailable(*m_socket, m_parser);
    processFrames();
    if (!open && !m_peerClosed) {
        // The peer finished sending (or the socket failed): answer what it sent, then go.
        m_peerClosed = true;
        m_peerClosedAt = std::chrono::steady_clock::now();
        finishWhenAnswered();
    }
}

void ServerConnection::protocolError(RpcError::Code code, const QString &message, quint64 messageId)
{
    qCWarning(lcTransport) << "closing connection from" << m_socket->peerAddress().toString()
                           << "after a protocol error:" << message;
    m_core->protocolErrors.fetch_add(1, std::memory_order_relaxed);
    Extension ext;
    ext.insert(ExtensionKey::Code, QByteArray::number(int(code)));
    ext.insert(ExtensionKey::Message, message);
    QByteArray out;
    Frame::encode(out, Frame::Error, 0, messageId, ext.encode(), {});
    m_outbox->post(std::move(out));
    flush();
    m_closing = true;
    stopWatching(m_writable);
    m_outbox->close();
    m_socket->disconnectFromHost(); // after the pending bytes are written; then deleteLater
    if (m_socket->state() == QAbstractSocket::UnconnectedState)
        deleteLater();
}

void ServerConnection::handleFrame(Frame &&frame)
{
    switch (frame.command) {
    case Frame::Request:
        handleRequest(std::move(frame));
        return;
    case Frame::KeepAliveRequest: {
        QByteArray out;
        Frame::encode(out, Frame::KeepAliveResponse, frame.serialization, frame.messageId, {}, {});
        m_outbox->post(std::move(out));
        return;
    }
    case Frame::Cancel: {
        m_core->cancelRequests.fetch_add(1, std::memory_order_relaxed);
        const auto it = std::find_if(m_calls.begin(), m_calls.end(),
                                     [&](const auto &e) { return e.first == frame.messageId; });
        if (it != m_calls.end()) {
            if (auto call = it->second.lock()) {
                int expected = ServerCall::Queued;
                call->state.compare_exchange_strong(expected, ServerCall::Cancelled);
            }
            m_calls.erase(it);
        }
        return;
    }
    case Frame::KeepAliveResponse:
        return;
    case Frame::Error:
        qCWarning(lcTransport) << "peer reported an error and closes:" << frame.extension;
        m_socket->disconnectFromHost();
        return;
    default:
        ServerCore::respondError(*m_outbox, frame.messageId, frame.serialization, RpcError::BadRequest,
                                 QStringLiteral("command %1 is not one a server accepts").arg(frame.command));
        return;
    }
}

void ServerConnection::handleRequest(Frame &&frame)
{
    Outbox &outbox = *m_outbox;
    const quint64 id = frame.messageId;
    const quint8 ser = frame.serialization;
    m_core->callsReceived.fetch_add(1, std::memory_order_relaxed);
    auto refuse = [&](RpcError::Code code, const QString &message) {
        m_core->callsFailed.fetch_add(1, std::memory_order_relaxed);
        ServerCore::respondError(outbox, id, ser, code, message);
    };
    if (ser > quint8(Serialization::Json)) {
        refuse(RpcError::UnsupportedSerialization,
               QStringLiteral("serialization %1 is not supported (0 = CBOR, 1 = JSON)").arg(ser));
        return;
    }
    Extension ext;
    QString error;
    if (!Extension::decode(frame.extension, &ext, &error)) {
        refuse(RpcError::BadRequest, error);
        return;
    }
    if (m_core->shuttingDown.load()) {
        refuse(RpcError::ShuttingDown, QStringLiteral("the server is shutting down"));
        return;
    }
    const QByteArrayView serviceName = ext.view(ExtensionKey::Service);
    auto service = m_core->service(serviceName);
    if (!service) {
        refuse(RpcError::UnknownService,
               QStringLiteral("service '%1' is not published here (published: %2)")
                   .arg(QString::fromUtf8(serviceName),
                        m_core->serviceNames().join(QLatin1String(", "))));
        return;
    }
    const QByteArrayView methodName = ext.view(ExtensionKey::Method);
    const MethodInfo *method = service->info.find(methodName);
    if (!method) {
        refuse(RpcError::UnknownMethod, QStringLiteral("service '%1' has no method '%2'")
                                            .arg(QString::fromUtf8(serviceName),
                                                 QString::fromUtf8(methodName)));
        return;
    }
    auto call = std::make_shared<ServerCall>();
    const QByteArrayView timeout = ext.view(ExtensionKey::TimeoutMs);
    if (!timeout.isEmpty()) {
        bool ok = false;
        const qint64 ms = timeout.toLongLong(&ok);
        if (!ok || ms < 1) {
            refuse(RpcError::BadRequest, QStringLiteral("timeout-ms '%1' is not a positive integer")
                                             .arg(QString::fromUtf8(timeout)));
            return;
        }
        // Clamped (to a year): a huge budget must not overflow the clock arithmetic.
        call->deadline = std::chrono::steady_clock::now()
            + std::chrono::milliseconds(qMin<qint64>(ms, 365LL * 24 * 3600 * 1000));
    }
    call->messageId = id;
    call->serialization = ser;
    call->compression = ext.value(ExtensionKey::Compression);
    call->service = std::move(service);
    call->method = method;
    call->body = std::move(frame.body);
    call->outbox = m_outbox;
    call->owed = m_owed;
    m_owed->fetch_add(1);
    call->load = m_load;
    m_load->fetch_add(1);

    if (m_calls.size() >= m_purgeAt) {
        m_calls.erase(std::remove_if(m_calls.begin(), m_calls.end(),
                                     [](const auto &e) { return e.second.expired(); }),
                      m_calls.end());
        m_purgeAt = qMax<size_t>(16, m_calls.size() * 2);
    }
    m_calls.emplace_back(id, call);
    m_core->callsInFlight.fetch_add(1);
    m_core->dispatch(std::move(call));
}

void ServerConnection::flush()
{
    if (m_closing)
        return;
    if (!flushOutbox(*m_outbox, this, m_writable, [this] { flush(); })) {
        m_socket->abort();
        deleteLater();
        return;
    }
    if (m_readPaused && !overloaded()) {
        m_readPaused = false;
        QMetaObject::invokeMethod(this, &ServerConnection::onReadyRead, Qt::QueuedConnection);
    }
}

void ServerConnection::finishWhenAnswered()
{
    // Answers are written by business threads through the outbox's own descriptor, which
    // outlives Qt's close of the read side. Wait for the last one (bounded by the drain
    // timeout), then go.
    // A call's state lives until its answer is posted (m_calls holds it weakly).
    const bool answered = !m_readPaused && m_outbox->pendingBytes() == 0
        && std::all_of(m_calls.begin(), m_calls.end(), [](const auto &e) { return e.second.expired(); });
    const bool tooLong = std::chrono::steady_clock::now() - m_peerClosedAt
        > std::chrono::milliseconds(m_core->config.drainTimeoutMs());
    if (answered || tooLong || m_outbox->isClosed()) {
        deleteLater();
        return;
    }
    QTimer::singleShot(5, this, &ServerConnection::finishWhenAnswered);
}

} // namespace Tomato
