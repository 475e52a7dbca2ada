// SPDX-License-Identifier: Apache-2.0
#include <tomato/client/clientconnection_p.h>

#include <tomato/core/logging_p.h>
#include <tomato/serialization/marshal_p.h>
#include <tomato/transport/stream_p.h>
#include <tomato/transport/transport_p.h>
#include <tomato/wire/message_p.h>

namespace Tomato {

using Clock = std::chrono::steady_clock;

ClientConnection::ClientConnection(std::shared_ptr<ClientSession> session,
                                   std::shared_ptr<const Transports> transports, QObject *parent)
    : QObject(parent),
      m_session(std::move(session)),
      m_transports(std::move(transports)),
      m_parser(m_session->settings.maxFrameBytes)
{
    m_session->outbox = std::make_shared<Outbox>(this, [this] { flush(); });
    m_session->requestRearm = [this] {
        QMetaObject::invokeMethod(this, &ClientConnection::rearm, Qt::QueuedConnection);
    };
    m_timer.setSingleShot(true);
    m_timer.setTimerType(Qt::PreciseTimer);
    connect(&m_timer, &QTimer::timeout, this, &ClientConnection::onTimer);
    if (m_session->settings.keepAliveMs > 0) {
        m_keepAlive.setInterval(m_session->settings.keepAliveMs);
        connect(&m_keepAlive, &QTimer::timeout, this, &ClientConnection::onKeepAlive);
    }
    m_connectTimer.setSingleShot(true);
    connect(&m_connectTimer, &QTimer::timeout, this, &ClientConnection::onConnectTimeout);
    m_session->requestSync = [this] {
        QMetaObject::invokeMethod(this, &ClientConnection::syncSubscriptions, Qt::QueuedConnection);
    };
    m_resubscribeTimer.setSingleShot(true);
    connect(&m_resubscribeTimer, &QTimer::timeout, this, [this] {
        if (!m_stream && m_session->hasSubscriptions())
            connectStream();
    });
}

ClientConnection::~ClientConnection()
{
    m_writer.stop();
    // Tell the server the calls in flight are abandoned, so their running methods see
    // CallContext::isCancelled() at once instead of when the server gives up on a peer that
    // only closed its sending side (TCP and Unix write these now; a TLS server sees the
    // close itself).
    if (isConnected()) {
        for (const quint64 id : m_session->pendingIds())
            m_session->outbox->post(Message::emptyFrame(Frame::Cancel, id), Outbox::When::WriteNow);
    }
    m_session->close();
    m_session->outbox->close();
    failAll(RpcError::ClientClosed, QStringLiteral("the RpcClient was shut down"));
}

bool ClientConnection::isConnected() const
{
    return m_stream && m_stream->isReady();
}

// ---- the stream --------------------------------------------------------------------------

void ClientConnection::flush()
{
    if (!m_stream)
        connectStream(); // the queued bytes wait in the outbox until ready
    else if (m_stream->isReady() && !m_writer.flush(*m_session->outbox, m_stream, this, [this] { flush(); })) {
        // The peer closed. It may have said why first (a server's goodbye at a graceful stop,
        // an Error frame 204 promising that nothing unanswered ran): read what it sent before
        // failing the calls, so that they fail with its code, not ConnectionLost.
        onReadyRead();
        if (m_stream)
            dropStream();
    }
    rearm();
}

void ClientConnection::connectStream()
{
    QString error;
    const Transport *transport = m_transports->forEndpoint(m_session->settings.endpoint, &error);
    if (!transport) {
        failAll(RpcError::ConnectFailed, error, true);
        return;
    }
    m_parser = FrameParser(m_session->settings.maxFrameBytes);
    m_stream = transport->connect(m_session->settings.endpoint, this);
    connect(m_stream, &Stream::ready, this, &ClientConnection::onReady);
    connect(m_stream, &Stream::readyRead, this, &ClientConnection::onReadyRead);
    connect(m_stream, &Stream::closed, this, &ClientConnection::onStreamGone);
    if (m_session->settings.connectTimeoutMs > 0)
        m_connectTimer.start(m_session->settings.connectTimeoutMs);
}

// A peer that neither accepts nor refuses (a dropped SYN, a stopped TLS server) must not hold
// the calls for their whole timeout: they fail ConnectFailed, which a cluster retries elsewhere.
void ClientConnection::onConnectTimeout()
{
    if (!m_stream || m_stream->isReady())
        return;
    Stream *gone = std::exchange(m_stream, nullptr);
    gone->disconnect(this);
    gone->abort();
    gone->deleteLater();
    m_writer.stop();
    const QString why = QStringLiteral("cannot connect to %1: no connection within connect-timeout-ms (%2 ms)")
                            .arg(m_session->where)
                            .arg(m_session->settings.connectTimeoutMs);
    qCDebug(lcTransport).noquote() << why;
    failAll(RpcError::ConnectFailed, why, true);
}

void ClientConnection::onReady()
{
    qCDebug(lcTransport).noquote() << "connected to" << m_session->where;
    m_connectTimer.stop();
    m_session->connected.store(true, std::memory_order_relaxed);
    m_lastRead = Clock::now();
    m_keepAlivesUnanswered = 0;
    m_session->outbox->attach(m_stream);
    if (m_session->settings.keepAliveMs > 0)
        m_keepAlive.start();
    m_resubscribeBackoffMs = 100;
    syncSubscriptions();
    flush();
}

// The stream ended or never came up: every call on it fails. Detaching drops the bytes queued
// for it; it happens in takeAll() under the session lock, so a call sent meanwhile is either
// failed here with its bytes dropped, or sent after, on the next connection: never failed and
// sent too.
void ClientConnection::onStreamGone()
{
    Stream *gone = std::exchange(m_stream, nullptr);
    if (!gone)
        return;
    gone->disconnect(this); // a late signal of the old stream must not touch the next one
    gone->deleteLater();
    m_session->connected.store(false, std::memory_order_relaxed);
    m_keepAlive.stop();
    m_connectTimer.stop();
    m_writer.stop();
    m_session->connectionLost();
    if (m_session->hasSubscriptions()) {
        // Nothing else would reconnect until the next call: the subscriptions want events.
        m_resubscribeTimer.start(m_resubscribeBackoffMs);
        m_resubscribeBackoffMs = qMin(m_resubscribeBackoffMs * 2, 5000);
    }
    qCDebug(lcTransport).noquote() << (gone->isReady() ? "the connection to" : "no connection to")
                                   << m_session->where + QLatin1Char(':') << gone->errorString();
    if (m_goneWith) // the peer's Error frame said why: every call still on the stream gets that
        failAll(m_goneWith->code(), m_goneWith->message(), true);
    else if (gone->isReady())
        failAll(RpcError::ConnectionLost, QStringLiteral("connection to %1 lost: %2")
                                              .arg(m_session->where, gone->errorString()),
                true);
    else
        failAll(RpcError::ConnectFailed, gone->errorString(), true);
}

void ClientConnection::dropStream()
{
    if (m_stream)
        m_stream->abort();
    onStreamGone();
}

void ClientConnection::failAll(RpcError::Code code, const QString &message, bool detach)
{
    const auto calls = m_session->takeAll(detach);
    const RpcError error(code, message);
    for (const auto &call : calls)
        finishCall(*call, m_session->where, &error);
}

// ---- the response pipeline ---------------------------------------------------------------

void ClientConnection::onReadyRead()
{
    if (!isConnected())
        return;
    m_lastRead = Clock::now();
    m_keepAlivesUnanswered = 0;
    const bool open = m_stream->readInto(m_parser);
    while (m_stream) {
        switch (m_parser.next()) {
        case FrameParser::NeedMore:
            // Answers read before a close are served first; the close is handled now, not
            // queued, so no flush can reconnect in between and have the new stream torn down
            // by a late "gone" for the old one.
            if (!open)
                onStreamGone();
            return;
        case FrameParser::Frame:
            handleFrame(m_parser.takeFrame());
            break;
        case FrameParser::TooLarge:
            if (auto call = m_session->take(m_parser.frame().messageId)) {
                const RpcError error(RpcError::FrameTooLarge, m_parser.errorString());
                finishCall(*call, m_session->where, &error);
            }
            break;
        case FrameParser::Corrupt:
            qCWarning(lcTransport).noquote() << "bad bytes from" << m_session->where
                                             << m_parser.errorString();
            failAll(RpcError::ProtocolViolation, m_parser.errorString());
            dropStream();
            return;
        }
    }
}

void ClientConnection::handleFrame(Frame &&frame)
{
    if (frame.command == Frame::KeepAliveResponse)
        return;
    Extension ext;
    QString error;
    const bool extOk = Extension::decode(frame.extension, &ext, &error);
    if (frame.command == Frame::Error) {
        Message::ResponseHeader header;
        const bool known = extOk && Message::readResponse(ext, &header, &error) && header.code != RpcError::Ok;
        // Every call on this connection, also one sent while this frame was on its way (its
        // promise, e.g. 204's "nothing unanswered ran", covers them all), fails with its code;
        // detached: a retry of one of them waits for the next connection.
        m_goneWith = RpcError(known ? header.code : RpcError::ProtocolViolation,
                              QStringLiteral("the server closed the connection: %1")
                                  .arg(known ? header.message : QString::fromUtf8(ext.value(ExtensionKey::Message))));
        dropStream();
        m_goneWith.reset();
        return;
    }
    if (frame.command != Frame::Response) {
        handleSignalFrame(frame, ext, extOk);
        return; // nothing else is meant for a client; ignore rather than fail everyone
    }
    std::unique_ptr<OutgoingCall> call = m_session->take(frame.messageId);
    if (!call) {
        handleSignalFrame(frame, ext, extOk); // the answer to a Subscribe, or a late one
        return;
    }
    if (!extOk) {
        const RpcError violation(RpcError::ProtocolViolation, error);
        return finishCall(*call, m_session->where, &violation);
    }
    complete(*call, std::move(frame), ext);
}

// A response for `call`: its error, or its result decoded into the pending call.
void ClientConnection::complete(OutgoingCall &call, Frame &&frame, const Extension &ext)
{
    const QString where = m_session->where;
    PendingCall &pending = *call.pending;
    Message::ResponseHeader header;
    QString error;
    auto fail = [&](const RpcError &e) { finishCall(call, where, &e); };
    if (!Message::readResponse(ext, &header, &error))
        return fail(RpcError(RpcError::ProtocolViolation, error));
    if (header.code != RpcError::Ok)
        return fail(RpcError(header.code, header.message, header.exceptionType));
    QByteArray body = std::move(frame.body);
    if (!Message::decompressBody(header.compression, body, m_session->settings.maxFrameBytes, &error))
        return fail(RpcError(RpcError::ProtocolViolation, error));
    if (pending.wantsRawResult()) {
        pending.setRawResult(std::move(body));
    } else if (pending.resultType().isValid()
               && !Marshal::decodeValue(Serialization(frame.serialization), body, pending.resultType(),
                                        pending.resultStorage(), &error, &body)) {
        return fail(RpcError(RpcError::ProtocolViolation, QStringLiteral("the reply cannot be decoded: %1").arg(error)));
    }
    finishCall(call, where, nullptr);
}

// ---- remote signals ------------------------------------------------------------------------

// Sends the Subscribe and Unsubscribe frames that changed since the last time (everything
// after a reconnect); connects first when there is something to subscribe to.
void ClientConnection::syncSubscriptions()
{
    if (!isConnected()) {
        if (!m_stream && m_session->hasSubscriptions() && !m_resubscribeTimer.isActive())
            connectStream(); // onReady() syncs
        return;
    }
    std::vector<std::pair<quint64, SignalTarget>> subscribe;
    std::vector<quint64> unsubscribe;
    m_session->takeToSync(&subscribe, &unsubscribe);
    for (const quint64 id : unsubscribe)
        m_session->outbox->post(Message::emptyFrame(Frame::Unsubscribe, id));
    for (const auto &[id, target] : subscribe) {
        FrameBuilder frame;
        frame.add(ExtensionKey::Service, target.service);
        frame.add(ExtensionKey::Signal, target.signal);
        m_session->outbox->post(frame.finish(Frame::Subscribe, quint8(target.serialization), id));
    }
}

// A Response to a Subscribe, an Event, or the server's Unsubscribe. Anything else, and frames
// of subscriptions this side no longer has, are ignored.
void ClientConnection::handleSignalFrame(const Frame &frame, const Extension &ext, bool extOk)
{
    const QString where = m_session->where;
    switch (frame.command) {
    case Frame::Response: {
        Message::ResponseHeader header;
        QString error;
        if (!extOk || !Message::readResponse(ext, &header, &error)) {
            header.code = RpcError::ProtocolViolation;
            header.message = error;
        }
        bool again = false;
        const bool ok = header.code == RpcError::Ok;
        const auto sink = m_session->sinkOf(frame.messageId, ok, !ok, &again);
        if (!sink)
            return;
        if (ok)
            sink->subscribed(where, again);
        else
            sink->ended(where, RpcError(header.code, header.message, header.exceptionType));
        return;
    }
    case Frame::Event: {
        const auto sink = m_session->sinkOf(frame.messageId);
        if (!sink)
            return; // unsubscribed meanwhile
        if (frame.serialization > quint8(Serialization::Json)) {
            qCWarning(lcClient).noquote() << QStringLiteral("an event from %1 in serialization %2 was dropped (0 = CBOR, 1 = JSON)")
                                                 .arg(where).arg(frame.serialization);
            return;
        }
        const quint64 seq = extOk ? ext.view(ExtensionKey::Seq).toULongLong() : 0;
        QByteArray body = frame.body;
        sink->delivered(where, seq, Serialization(frame.serialization), std::move(body));
        return;
    }
    case Frame::Unsubscribe: {
        const auto sink = m_session->sinkOf(frame.messageId, false, true);
        if (!sink)
            return;
        bool known = false;
        const int code = extOk ? ext.view(ExtensionKey::Code).toInt(&known) : 0;
        sink->ended(where, RpcError(known && RpcError::isKnownCode(quint16(code)) ? RpcError::Code(code) : RpcError::Internal,
                                    QString::fromUtf8(ext.view(ExtensionKey::Message))));
        return;
    }
    default:
        return;
    }
}

// ---- timers --------------------------------------------------------------------------------

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
    ClientSession::Taken expired;
    ClientSession::Taken cancelled;
    m_session->takeExpired(Clock::now(), &expired, &cancelled);
    const QString where = m_session->where;
    const RpcError timeout(RpcError::Timeout, QStringLiteral("no reply from %1 within the call's timeout").arg(where));
    const RpcError cancel(RpcError::Cancelled, QStringLiteral("cancelled by the caller"));
    for (auto &[id, call] : expired) {
        sendCancel(id);
        finishCall(*call, where, &timeout);
    }
    for (auto &[id, call] : cancelled) {
        sendCancel(id);
        finishCall(*call, where, &cancel);
    }
    rearm();
}

void ClientConnection::sendCancel(quint64 id)
{
    if (isConnected())
        m_session->outbox->post(Message::emptyFrame(Frame::Cancel, id));
}

// Heartbeats: a connection the peer has been silent on for a keep-alive interval gets a
// KeepAlive request; anything the peer sends answers it. Two unanswered in a row mean the
// peer is dead (crashed host, frozen process, cut link): the connection is dropped, its calls
// fail ConnectionLost, and the next call reconnects.
void ClientConnection::onKeepAlive()
{
    if (!isConnected())
        return;
    const auto interval = std::chrono::milliseconds(m_session->settings.keepAliveMs);
    if (Clock::now() - m_lastRead < interval)
        return;
    // A server stops reading a connection with this many calls unanswered (its flow control),
    // so its silence then proves nothing: the calls' own timeouts judge it.
    constexpr qsizetype ServerReadLimit = 256;
    if (m_keepAlivesUnanswered >= 2 && m_session->inFlight() < ServerReadLimit) {
        qCWarning(lcTransport).noquote() << "no answer from" << m_session->where << "to"
                                         << m_keepAlivesUnanswered << "heartbeats; dropping the connection";
        dropStream();
        return;
    }
    ++m_keepAlivesUnanswered;
    m_session->outbox->post(Message::emptyFrame(Frame::KeepAliveRequest, m_session->nextMessageId()));
}

} // namespace Tomato
