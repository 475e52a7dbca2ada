#include <tomato/transport/clientconnection_p.h>

#include <tomato/compression/codec.h>
#include <tomato/core/logging_p.h>
#include <tomato/transport/outbox_p.h>
#include <tomato/transport/socketio_p.h>
#include <tomato/wire/extension.h>

namespace Tomato {

using Clock = std::chrono::steady_clock;

// ---- ClientSession ----------------------------------------------------------------------

quint64 ClientSession::nextMessageId()
{
    return m_nextId.fetch_add(1, std::memory_order_relaxed);
}

void ClientSession::send(std::unique_ptr<OutgoingCall> call)
{
    QByteArray frame = std::move(call->frame);
    const qsizetype bodyStart = Frame::HeaderSize + call->extensionSize;
    qsizetype extensionSize = call->extensionSize;
    if (!settings.compression.isEmpty() && frame.size() - bodyStart >= settings.compressionThreshold) {
        Compression::Kind kind;
        if (Compression::fromName(settings.compression, &kind) && kind != Compression::Kind::None) {
            const QByteArray packed = Compression::compress(kind, QByteArrayView(frame).sliced(bodyStart));
            frame.truncate(bodyStart);
            frame += "&compression:" + settings.compression;
            extensionSize = frame.size() - Frame::HeaderSize;
            frame += packed;
        }
    }
    if (frame.size() > settings.maxFrameBytes) {
        call->pending->fail(RpcError(RpcError::RequestTooLarge,
                                     QStringLiteral("request of %1 bytes exceeds max-frame-bytes %2")
                                         .arg(frame.size()).arg(settings.maxFrameBytes)));
        return;
    }
    const quint64 id = nextMessageId();
    Frame::writeHeader(reinterpret_cast<uchar *>(frame.data()), Frame::Request, call->serialization, id,
                       quint32(extensionSize), quint32(frame.size() - Frame::HeaderSize - extensionSize));

    PendingCall *pending = call->pending.get();
    {
        QMutexLocker lock(&m_mutex);
        if (!m_closed) {
            const auto deadline = call->deadline;
            m_deadlines.emplace(deadline, id);
            m_calls.emplace(id, std::move(call));
            if (deadline.time_since_epoch().count() < timerDue.load(std::memory_order_relaxed)) {
                // The I/O thread's timer would notice this deadline too late (or is off).
                timerDue.store(deadline.time_since_epoch().count(), std::memory_order_relaxed);
                requestRearm();
            }
            // Posting under the lock keeps the order of ids and bytes, and a concurrent
            // takeAll() either sees the call or the outbox refuses it.
            // A lone call goes out at once from this thread; with others in flight it is
            // batched with them by the I/O thread.
            const auto when = m_calls.size() == 1 ? Outbox::When::WriteNow : Outbox::When::Batch;
            if (outbox->post(std::move(frame), when))
                return;
            call = std::move(m_calls[id]);
            m_calls.erase(id);
        }
    }
    pending->fail(RpcError(RpcError::ClientClosed, QStringLiteral("the RpcClient was shut down")));
}

std::unique_ptr<OutgoingCall> ClientSession::take(quint64 id)
{
    QMutexLocker lock(&m_mutex);
    auto it = m_calls.find(id);
    if (it == m_calls.end())
        return nullptr;
    std::unique_ptr<OutgoingCall> call = std::move(it->second);
    m_calls.erase(it);
    auto range = m_deadlines.equal_range(call->deadline);
    for (auto d = range.first; d != range.second; ++d) {
        if (d->second == id) {
            m_deadlines.erase(d);
            break;
        }
    }
    return call;
}

std::vector<std::unique_ptr<OutgoingCall>> ClientSession::takeAll(bool detachSocket)
{
    QMutexLocker lock(&m_mutex);
    if (detachSocket)
        outbox->detachSocket(); // lock order as in send(): session, then outbox
    std::vector<std::unique_ptr<OutgoingCall>> all;
    all.reserve(m_calls.size());
    for (auto &entry : m_calls)
        all.push_back(std::move(entry.second));
    m_calls.clear();
    m_deadlines.clear();
    return all;
}

void ClientSession::takeExpired(Clock::time_point now,
                                std::vector<std::pair<quint64, std::unique_ptr<OutgoingCall>>> *expired,
                                std::vector<std::pair<quint64, std::unique_ptr<OutgoingCall>>> *cancelled)
{
    QMutexLocker lock(&m_mutex);
    while (!m_deadlines.empty() && m_deadlines.begin()->first <= now) {
        const quint64 id = m_deadlines.begin()->second;
        m_deadlines.erase(m_deadlines.begin());
        auto it = m_calls.find(id);
        if (it != m_calls.end()) {
            expired->emplace_back(id, std::move(it->second));
            m_calls.erase(it);
        }
    }
    for (auto it = m_calls.begin(); it != m_calls.end();) {
        if (it->second->pending->isCanceled()) {
            const quint64 id = it->first;
            std::unique_ptr<OutgoingCall> call = std::move(it->second);
            it = m_calls.erase(it);
            auto range = m_deadlines.equal_range(call->deadline);
            for (auto d = range.first; d != range.second; ++d) {
                if (d->second == id) {
                    m_deadlines.erase(d);
                    break;
                }
            }
            cancelled->emplace_back(id, std::move(call));
        } else {
            ++it;
        }
    }
}

Clock::time_point ClientSession::nextDeadline() const
{
    QMutexLocker lock(&m_mutex);
    return m_deadlines.empty() ? Clock::time_point::max() : m_deadlines.begin()->first;
}

qsizetype ClientSession::inFlight() const
{
    QMutexLocker lock(&m_mutex);
    return qsizetype(m_calls.size());
}

void ClientSession::close()
{
    QMutexLocker lock(&m_mutex);
    m_closed = true;
}

// ---- ClientConnection -------------------------------------------------------------------

ClientConnection::ClientConnection(std::shared_ptr<ClientSession> session, QObject *parent)
    : QObject(parent),
      m_session(std::move(session)),
      m_socket(new QTcpSocket(this)),
      m_parser(m_session->settings.maxFrameBytes)
{
    m_session->outbox = std::make_shared<Outbox>(this, [this] { flush(); });
    m_session->requestRearm = [this] {
        QMetaObject::invokeMethod(this, &ClientConnection::rearm, Qt::QueuedConnection);
    };
    connect(m_socket, &QTcpSocket::connected, this, &ClientConnection::onConnected);
    connect(m_socket, &QTcpSocket::readyRead, this, &ClientConnection::onReadyRead);
    connect(m_socket, &QTcpSocket::disconnected, this, &ClientConnection::onSocketGone);
    connect(m_socket, &QTcpSocket::errorOccurred, this, [this] {
        if (m_socket->state() == QAbstractSocket::UnconnectedState)
            onSocketGone();
    });
    m_timer.setSingleShot(true);
    m_timer.setTimerType(Qt::PreciseTimer);
    connect(&m_timer, &QTimer::timeout, this, &ClientConnection::onTimer);
    if (m_session->settings.keepAliveMs > 0) {
        m_keepAlive.setInterval(m_session->settings.keepAliveMs);
        connect(&m_keepAlive, &QTimer::timeout, this, &ClientConnection::onKeepAlive);
    }
}

ClientConnection::~ClientConnection()
{
    stopWatching(m_writable);
    m_session->close();
    m_session->outbox->close();
    failAll(RpcError::ClientClosed, QStringLiteral("the RpcClient was shut down"));
}

void ClientConnection::flush()
{
    switch (m_socket->state()) {
    case QAbstractSocket::ConnectedState:
        if (!flushOutbox(*m_session->outbox, this, m_writable, [this] { flush(); }))
            m_socket->abort(); // -> onSocketGone()
        break;
    case QAbstractSocket::UnconnectedState:
        m_parser = FrameParser(m_session->settings.maxFrameBytes);
        m_active = true;
        m_wasConnected = false;
        m_socket->connectToHost(m_session->settings.host, m_session->settings.port,
                                QIODevice::ReadWrite | QIODevice::Unbuffered);
        break;
    default:
        break; // connecting: onConnected() flushes
    }
    rearm();
}

void ClientConnection::onConnected()
{
    m_wasConnected = true;
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    m_lastRead = Clock::now();
    m_session->outbox->attachSocket(m_socket->socketDescriptor());
    if (m_session->settings.keepAliveMs > 0)
        m_keepAlive.start();
    flush();
}

void ClientConnection::onSocketGone()
{
    if (!m_active)
        return;
    m_active = false;
    m_keepAlive.stop();
    stopWatching(m_writable);
    const QString where = m_session->settings.host + QLatin1Char(':')
        + QString::number(m_session->settings.port);
    // Detaching drops the bytes queued for the dead socket; it happens in takeAll() under
    // the session lock, so a call sent meanwhile is either failed here with its bytes
    // dropped, or sent after, on the next connection: never failed and sent too.
    if (m_wasConnected)
        failAll(RpcError::ConnectionLost,
                QStringLiteral("connection to %1 lost: %2").arg(where, m_socket->errorString()), true);
    else
        failAll(RpcError::ConnectFailed,
                QStringLiteral("cannot connect to %1: %2").arg(where, m_socket->errorString()), true);
}

void ClientConnection::failAll(RpcError::Code code, const QString &message, bool detach)
{
    const auto calls = m_session->takeAll(detach);
    const RpcError error(code, message);
    for (const auto &call : calls)
        call->pending->fail(error);
}

void ClientConnection::onReadyRead()
{
    m_lastRead = Clock::now();
    const bool open = readAvailable(*m_socket, m_parser);
    while (true) {
        switch (m_parser.next()) {
        case FrameParser::NeedMore:
            // Answers read before a close are served first; the close is handled now, not
            // queued, so no flush can reconnect in between and have the new socket torn down
            // by a late "gone" for the old one.
            if (!open)
                onSocketGone();
            return;
        case FrameParser::Frame:
            handleResponse(m_parser.takeFrame());
            break;
        case FrameParser::TooLarge:
            if (auto call = m_session->take(m_parser.frame().messageId))
                call->pending->fail(RpcError(RpcError::FrameTooLarge, m_parser.errorString()));
            break;
        case FrameParser::Corrupt:
            qCWarning(lcTransport) << "bad bytes from" << m_session->settings.host
                                   << m_session->settings.port << m_parser.errorString();
            failAll(RpcError::ProtocolViolation, m_parser.errorString());
            m_socket->abort();
            return;
        }
    }
}

void ClientConnection::handleResponse(Frame &&frame)
{
    if (frame.command == Frame::KeepAliveResponse)
        return;
    Extension ext;
    QString error;
    const bool extOk = Extension::decode(frame.extension, &ext, &error);
    if (frame.command == Frame::Error) {
        bool ok = false;
        const int code = ext.value(ExtensionKey::Code).toInt(&ok);
        failAll(ok && RpcError::isKnownCode(quint16(code)) ? RpcError::Code(code) : RpcError::ProtocolViolation,
                QStringLiteral("the server closed the connection: %1")
                    .arg(QString::fromUtf8(ext.value(ExtensionKey::Message))));
        m_socket->abort();
        return;
    }
    if (frame.command != Frame::Response)
        return; // nothing else is meant for a client; ignore rather than fail everyone
    std::unique_ptr<OutgoingCall> call = m_session->take(frame.messageId);
    if (!call)
        return; // timed out or cancelled already
    PendingCall &pending = *call->pending;
    if (!extOk) {
        pending.fail(RpcError(RpcError::ProtocolViolation, error));
        return;
    }
    bool ok = false;
    const int code = ext.value(ExtensionKey::Code).toInt(&ok);
    if (!ok) {
        pending.fail(RpcError(RpcError::ProtocolViolation, QStringLiteral("response without a code")));
        return;
    }
    if (code != 0) {
        const auto c = RpcError::isKnownCode(quint16(code)) ? RpcError::Code(code) : RpcError::Internal;
        pending.fail(RpcError(c, QString::fromUtf8(ext.value(ExtensionKey::Message)),
                              QString::fromUtf8(ext.value(ExtensionKey::ExceptionType))));
        return;
    }
    QByteArray body = std::move(frame.body);
    const QByteArray compression = ext.value(ExtensionKey::Compression);
    if (!compression.isEmpty()) {
        Compression::Kind kind;
        QByteArray plain;
        if (!Compression::fromName(compression, &kind)
            || !Compression::decompress(kind, body, m_session->settings.maxFrameBytes, &plain, &error)) {
            pending.fail(RpcError(RpcError::ProtocolViolation,
                                  error.isEmpty() ? QStringLiteral("unknown compression in response") : error));
            return;
        }
        body = std::move(plain);
    }
    if (pending.resultType().isValid()
        && !Marshal::decodeValue(Serialization(frame.serialization), body, pending.resultType(),
                                 pending.resultStorage(), &error)) {
        pending.fail(RpcError(RpcError::ProtocolViolation,
                              QStringLiteral("the reply cannot be decoded: %1").arg(error)));
        return;
    }
    pending.succeed();
}

void ClientConnection::rearm()
{
    // Calls are sent straight from the callers' threads, so this timer is what notices their
    // deadlines and cancelled futures: it ticks every 50 ms (sooner for an earlier deadline)
    // while calls are in flight and for a second after, so that a steady stream of calls
    // never has to wake this thread to arm it. Callers wake it only for a deadline earlier
    // than the next tick (ClientSession::send).
    const auto now = Clock::now();
    if (m_session->inFlight() == 0) {
        if (now - m_lastBusy > std::chrono::seconds(1)) {
            // Say "off" first, then look again: a call sent in between either sees "off"
            // and asks for a re-arm, or is seen here.
            m_session->timerDue.store(Clock::time_point::max().time_since_epoch().count());
            if (m_session->inFlight() == 0) {
                m_timer.stop();
                return;
            }
        }
    } else {
        m_lastBusy = now;
    }
    const auto next = m_session->nextDeadline();
    auto wait = std::chrono::milliseconds(50);
    if (next <= now)
        wait = std::chrono::milliseconds(0);
    else if (next - now < wait)
        wait = std::chrono::ceil<std::chrono::milliseconds>(next - now);
    m_session->timerDue.store((now + wait).time_since_epoch().count());
    m_timer.start(wait);
}

void ClientConnection::onTimer()
{
    std::vector<std::pair<quint64, std::unique_ptr<OutgoingCall>>> expired;
    std::vector<std::pair<quint64, std::unique_ptr<OutgoingCall>>> cancelled;
    m_session->takeExpired(Clock::now(), &expired, &cancelled);
    for (auto &[id, call] : expired) {
        sendCancel(id);
        call->pending->fail(RpcError(RpcError::Timeout,
                                     QStringLiteral("no reply from %1:%2 within the call's timeout")
                                         .arg(m_session->settings.host)
                                         .arg(m_session->settings.port)));
    }
    for (auto &[id, call] : cancelled) {
        sendCancel(id);
        call->pending->fail(RpcError(RpcError::Cancelled, QStringLiteral("cancelled by the caller")));
    }
    rearm();
}

void ClientConnection::sendCancel(quint64 id)
{
    if (m_socket->state() != QAbstractSocket::ConnectedState)
        return;
    QByteArray out;
    Frame::encode(out, Frame::Cancel, 0, id, {}, {});
    m_session->outbox->post(std::move(out));
}

void ClientConnection::onKeepAlive()
{
    if (m_socket->state() != QAbstractSocket::ConnectedState)
        return;
    const auto interval = std::chrono::milliseconds(m_session->settings.keepAliveMs);
    const auto silent = Clock::now() - m_lastRead;
    if (silent >= 3 * interval) {
        qCWarning(lcTransport) << "no answer from" << m_session->settings.host
                               << m_session->settings.port << "for" << 3 * interval.count()
                               << "ms; dropping the connection";
        m_socket->abort();
        return;
    }
    if (silent >= interval) {
        QByteArray out;
        Frame::encode(out, Frame::KeepAliveRequest, 0, m_session->nextMessageId(), {}, {});
        m_session->outbox->post(std::move(out));
    }
}

} // namespace Tomato
