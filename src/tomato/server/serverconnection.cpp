// SPDX-License-Identifier: Apache-2.0
#include <tomato/server/serverconnection_p.h>
#include <tomato/server/signalhub_p.h>

#include <tomato/core/logging_p.h>
#include <tomato/server/servercore_p.h>
#include <tomato/status/httpconnection_p.h>
#include <tomato/transport/stream_p.h>
#include <tomato/wire/message_p.h>

#include <QtCore/QTimer>

#include <algorithm>

namespace Tomato {

ServerConnection::ServerConnection(Stream *stream, std::shared_ptr<ServerCore> core, ConnectionSlot slot,
                                   QObject *parent)
    : QObject(parent),
      m_core(std::move(core)),
      m_slot(std::move(slot)),
      m_account(m_core->budget, this),
      m_stream(stream),
      m_parser(m_core->maxFrameBytes),
      m_state(std::make_shared<ConnectionState>()),
      m_lastActivity(std::chrono::steady_clock::now())
{
    m_stream->setParent(this);
    m_state->outbox = std::make_shared<Outbox>(this, [this] { flush(); });
    m_state->outbox->setAccount(&m_account);
    m_state->peer = m_stream->peer();
    m_core->connections.fetch_add(1);
    m_core->connectionsAccepted.fetch_add(1, std::memory_order_relaxed);
    connect(m_stream, &Stream::closed, this, &ServerConnection::onStreamClosed);
    if (m_stream->isReady())
        onReady();
    else if (m_stream->isClosed())
        QMetaObject::invokeMethod(this, &ServerConnection::onStreamClosed, Qt::QueuedConnection);
    else
        connect(m_stream, &Stream::ready, this, &ServerConnection::onReady);
}

ServerConnection::~ServerConnection()
{
    m_account.detach();
    m_writer.stop();
    m_state->outbox->close();
    for (const auto &entry : m_subscriptions) {
        if (auto hub = entry.second.lock())
            hub->dropConnection(m_state.get());
    }
    // Calls not started yet have nobody to answer to: drop them; running ones see
    // CallContext::isCancelled().
    for (const auto &entry : m_calls) {
        if (auto call = entry.second.lock()) {
            int expected = ServerCall::Queued;
            call->state.compare_exchange_strong(expected, ServerCall::Cancelled);
            call->cancelRequested.store(true);
            m_core->cancelFuture(call); // an asynchronous method's future: cancelled
        }
    }
    if (!m_stream)
        return; // handed over to HTTP: no longer counted
    m_core->connectionClosed();
    qCDebug(lcTransport).noquote() << "closed the connection from" << m_state->peer + QLatin1Char(':')
                                   << (m_stream->errorString().isEmpty() ? QStringLiteral("by this server")
                                                                          : m_stream->errorString());
}

void ServerConnection::onReady()
{
    m_lastActivity = std::chrono::steady_clock::now(); // a TLS handshake does not eat into first-byte-timeout-ms
    m_state->peer = m_stream->peer();
    m_state->subject = m_stream->peerSubject();
    m_state->commonName = m_stream->peerCommonName();
    if (lcTransport().isDebugEnabled())
        qCDebug(lcTransport).noquote() << QLatin1String("accepted a connection from ") + m_state->peer
                + (m_state->subject.isEmpty() ? QString() : QLatin1String(" as ") + m_state->subject);
    m_state->outbox->attach(m_stream);
    connect(m_stream, &Stream::readyRead, this, &ServerConnection::onReadyRead);
    onReadyRead(); // bytes that came with the connection or the handshake
}

void ServerConnection::onStreamClosed()
{
    if (!m_stream->isReady()) {
        // It never came up: a TLS handshake failed, timed out or met plain text.
        m_core->handshakeFailures.fetch_add(1, std::memory_order_relaxed);
        qCInfo(lcTransport).noquote() << m_stream->errorString();
        deleteLater();
        return;
    }
    if (m_stopping) { // what was queued has gone out (or cannot)
        deleteLater();
        return;
    }
    // The peer closing its side (the stream may notice before we read the end) ends the
    // connection only once what it sent is answered: a half-closed peer still reads.
    peerFinished();
}

void ServerConnection::checkDeadlines(std::chrono::steady_clock::time_point now, const Deadlines &deadlines)
{
    if (!m_stream || m_closing || m_stopping || !m_stream->isReady())
        return; // a TLS handshake has tls-handshake-timeout-ms of its own
    using std::chrono::milliseconds;
    const auto warn = [this](const QString &what) {
        quint64 suppressed = 0;
        if (m_core->deadlineWarning.shouldLog(&suppressed))
            qCWarning(lcTransport).noquote() << what
                                             << (suppressed ? QStringLiteral("(and %1 more since the last such line)").arg(suppressed)
                                                            : QString());
    };
    if (m_waitingForRoom) {
        // Its bytes wait in the kernel because of us: no deadline of its own runs, but a wait
        // for room is bounded by the frame deadline too (eviction frees one holder per round;
        // a crowd of waiters must not hold their connections for ever).
        if (deadlines.frame.count() > 0 && now - m_waitStartedAt >= deadlines.frame) {
            m_core->frameTimeouts.fetch_add(1, std::memory_order_relaxed);
            const QString why = QStringLiteral("no room in max-buffered-bytes within frame-read-timeout-ms (%1 ms)")
                                    .arg(deadlines.frame.count());
            warn(QStringLiteral("closing the connection from %1: %2").arg(m_state->peer, why));
            closeWithError(RpcError::ResourceExhausted, why);
        }
        return;
    }
    if (deadlines.firstByte.count() > 0 && m_sniffing && now - m_lastActivity >= deadlines.firstByte) {
        m_core->firstByteTimeouts.fetch_add(1, std::memory_order_relaxed);
        const QString why = QStringLiteral("nothing arrived within first-byte-timeout-ms (%1 ms)").arg(deadlines.firstByte.count());
        warn(QStringLiteral("closing the connection from %1: %2").arg(m_state->peer, why));
        closeWithError(RpcError::ResourceExhausted, why);
        return;
    }
    // A frame's deadline runs while this connection reads: not while it waits for room in the
    // budget or for its own answers to drain (it resumes with a fresh deadline).
    if (deadlines.frame.count() > 0 && m_frameStartedAt != std::chrono::steady_clock::time_point{} && !m_readPaused
        && now - m_frameStartedAt >= deadlines.frame) {
        m_core->frameTimeouts.fetch_add(1, std::memory_order_relaxed);
        const QString why = QStringLiteral("a frame did not arrive whole within frame-read-timeout-ms (%1 ms): "
                                           "%2 of its %3 bytes came")
                                .arg(deadlines.frame.count()).arg(m_parser.bufferedBytes()).arg(m_parser.startedFrameBytes());
        warn(QStringLiteral("closing the connection from %1: %2").arg(m_state->peer, why));
        closeWithError(RpcError::ResourceExhausted, why);
        return;
    }
    // Idle: nothing received and no call of it queued or running, for the idle time. A long
    // call is no idle connection: its idle time starts when the call has been answered. (A
    // peer that reads none of its answers is idle: the answers waiting for it do not count.)
    if (m_state->load.load() > 0) {
        m_lastActivity = now;
        return;
    }
    if (deadlines.idle.count() > 0 && now - m_lastActivity >= deadlines.idle) {
        qCInfo(lcTransport).noquote() << "closing idle connection from" << m_state->peer;
        m_stream->abort();
        deleteLater();
    }
}

void ServerConnection::closeAfterWriting()
{
    if (m_closing || m_stopping)
        return; // already on its way out
    m_stopping = true;
    if (!m_stream->isReady()) { // still handshaking: nothing to write
        deleteLater();
        return;
    }
    flush(); // closes the stream once the outbox is empty
}

bool ServerConnection::overloaded() const
{
    return m_state->load.load() >= ServerCall::MaxLoad
        || m_state->outbox->pendingBytes() > 2 * m_core->maxFrameBytes;
}

// Flow control: a peer that sends more than we answer, or does not read its answers, must
// not make us buffer without bound. Past the limits, frames stay unparsed in the parser and
// new bytes stay in the kernel (the stream is not read); flush() reads on once answers drain.
// Parses the frames read so far, then runs the calls of I/O-thread services among them: after
// the parse, so that all but the last of a burst are answered in one batched write.
bool ServerConnection::processFrames()
{
    const bool more = parseFrames();
    // Run from a second vector, both keeping their capacity (no allocation per read). A method
    // that spins an event loop may bring this back here: the outer run takes what it parsed.
    if (m_runningInline)
        return more;
    m_runningInline = true;
    while (!m_inline.empty()) {
        m_running.swap(m_inline);
        for (const auto &call : m_running)
            m_core->execute(call);
        m_running.clear();
    }
    m_runningInline = false;
    return more;
}

bool ServerConnection::parseFrames()
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
            m_frameDone = true;
            handleFrame(m_parser.takeFrame());
            break;
        case FrameParser::TooLarge:
            m_frameDone = true;
            m_core->protocolErrors.fetch_add(1, std::memory_order_relaxed);
            m_state->outbox->post(Message::errorResponse(m_parser.frame().messageId, m_parser.frame().serialization,
                                                         RpcError::FrameTooLarge, m_parser.errorString()));
            break;
        case FrameParser::Corrupt:
            protocolError(m_parser.errorCode(), m_parser.errorString());
            return false;
        }
    }
    return false;
}

void ServerConnection::onReadyRead()
{
    if (m_closing || m_stopping || !m_stream->isReady())
        return;
    if (!processFrames()) // frames already buffered come first
        return;
    if (m_peerClosed && !m_stream->hasBufferedInput())
        return;
    const qint64 room = roomToRead();
    if (room <= 0)
        return; // onBudgetRoom() reads on
    const auto now = std::chrono::steady_clock::now();
    m_lastActivity = now;
    const bool open = m_stream->readInto(m_parser, room);
    const quint64 total = m_parser.totalAppended();
    m_core->bytesReceived.fetch_add(total - std::exchange(m_received, total), std::memory_order_relaxed);
    if (m_sniffing && handOverIfHttp())
        return;
    processFrames();
    settleBudget(now);
    if (!open) {
        peerFinished();
    } else if (m_stream->hasBufferedInput() && !m_readPaused && !m_closing) {
        // The stream holds more than this read could take; it will not signal it again.
        QMetaObject::invokeMethod(this, &ServerConnection::onReadyRead, Qt::QueuedConnection);
    }
}

// Reserves room in the budget for the next read, all or nothing: the whole frame under way
// (its size is known from its header); for a small one, or none, a read's worth beyond it.
// A large frame is read to its end and no further (its buffer is let go of whole). Once the
// budget's last eighth is in use, only what must be: the frame's rest, or a header to learn
// the next frame's size. 0 when the budget has no room: the connection keeps only what it
// holds and waits for onBudgetRoom(), its bytes staying in the kernel.
qint64 ServerConnection::roomToRead()
{
    if (m_parser.skipping() > 0) // an oversized frame's bytes are thrown away as they come
        return qMin<qint64>(m_parser.skipping(), ReadChunk);
    const qint64 held = m_parser.bufferedBytes();
    const qint64 started = m_parser.startedFrameBytes();
    const bool large = started > BufferBudget::SmallFrame;
    const qint64 target = large || m_core->budget->underPressure()
        ? std::max<qint64>({started, Frame::HeaderSize, held + 1})
        : qMax(started, held + ReadChunk);
    if (m_account.reserveOrWait(target, held, large)) {
        if (m_waitingForRoom) // granted before its wake-up came: the wait is over all the same
            endWait();
        return target - held;
    }
    if (!m_waitingForRoom) {
        m_waitingForRoom = true;
        m_waitStartedAt = std::chrono::steady_clock::now();
        quint64 suppressed = 0;
        if (m_core->budgetWarning.shouldLog(&suppressed))
            qCWarning(lcTransport).noquote()
                << QStringLiteral("max-buffered-bytes (%1) is used up (%2 bytes held): the connection from %3 waits "
                                  "for room for %4 bytes%5")
                       .arg(m_core->budget->limit()).arg(m_core->budget->used()).arg(m_state->peer)
                       .arg(target - held)
                       .arg(suppressed ? QStringLiteral(" (and %1 more waits since the last such line)").arg(suppressed)
                                       : QString());
    }
    return 0;
}

// After a read: the reservation shrinks to what the frame under way will take, if it covers
// it, else to what the parser holds (the next read reserves that frame whole); and that
// frame's deadline starts when it is a new one (an oversized one being skipped counts too).
void ServerConnection::settleBudget(std::chrono::steady_clock::time_point now)
{
    const qint64 held = m_parser.bufferedBytes();
    const qint64 started = m_parser.startedFrameBytes();
    m_account.shrinkFrame(started <= m_account.frameBytes() ? qMax<qint64>(started, held) : held);
    if (started == 0 && m_parser.skipping() == 0) {
        m_frameStartedAt = {};
    } else if (m_frameStartedAt == std::chrono::steady_clock::time_point{} || m_frameDone) {
        m_frameStartedAt = now;
    }
    m_frameDone = false;
}

// The budget granted what this connection waited for: the wait is over (it waited for us, not
// we for it: its deadlines start afresh), and it reads on.
void ServerConnection::onBudgetRoom()
{
    if (!m_waitingForRoom)
        return;
    endWait();
    onReadyRead();
}

void ServerConnection::endWait()
{
    m_waitingForRoom = false;
    const auto now = std::chrono::steady_clock::now();
    m_lastActivity = now;
    if (m_frameStartedAt != std::chrono::steady_clock::time_point{})
        m_frameStartedAt = now;
}

// The budget needs the memory this connection holds more than others' waiting calls do.
void ServerConnection::onBudgetEvict(const QString &why)
{
    if (m_closing || m_stopping || !m_stream)
        return;
    quint64 suppressed = 0;
    if (m_core->budgetWarning.shouldLog(&suppressed))
        qCWarning(lcTransport).noquote() << QStringLiteral("closing the connection from %1: %2").arg(m_state->peer, why);
    closeWithError(RpcError::ResourceExhausted, why);
}

// The first bytes of a connection tell a status request (HTTP) from frames: the connection is
// then handed, with what it read, to an HttpConnection on the same thread, and this goes.
bool ServerConnection::handOverIfHttp()
{
    const QByteArrayView start = m_parser.buffered();
    if (start.isEmpty())
        return false;
    m_sniffing = false;
    if (!HttpConnection::looksLikeHttp(start))
        return false;
    if (!m_core->statusPages) {
        m_httpRefused = true; // a corrupt stream, said so below
        return false;
    }
    m_stream->disconnect(this);
    m_core->connectionClosed(); // a status request is no RPC connection
    m_closing = true;
    m_writer.stop();
    m_state->outbox->close();
    m_account.detach();
    new HttpConnection(std::exchange(m_stream, nullptr), m_parser.takeBuffered(), m_core->statusPages,
                       m_core->config.statusRequestTimeoutMs(), parent(), std::move(m_slot));
    deleteLater();
    return true;
}

void ServerConnection::protocolError(RpcError::Code code, const QString &message)
{
    QString text = message;
    if (message.startsWith(QLatin1String("bad magic byte 0x16")))
        text += QStringLiteral(" (a TLS handshake? this port does not speak TLS)");
    else if (m_httpRefused)
        text += QStringLiteral(" (an HTTP request? status-enabled is false on this server)");
    qCWarning(lcTransport).noquote() << "closing the connection from" << m_state->peer << "after a protocol error:" << text;
    m_core->protocolErrors.fetch_add(1, std::memory_order_relaxed);
    closeWithError(code, text);
}

// Sends an Error frame, then closes once it is written (or the drain timeout passes). The
// Error frame must not be lost behind answers the peer has not read: those not yet begun are
// dropped, the one being written is finished (so the peer can parse on), then comes the Error
// frame (Outbox::finish). Nothing more is read.
void ServerConnection::closeWithError(RpcError::Code code, const QString &message)
{
    m_state->outbox->finish(Message::errorFrame(code, message));
    m_closing = true;
    // What it held goes back now, not at deletion (a TLS close may take a while), and it
    // waits for room no more.
    m_parser = FrameParser(m_core->maxFrameBytes);
    m_account.detach();
    m_writer.stop(); // its wake-ups called flush(), which does nothing now: flushLast() from here on
    flushLast();
    // A peer that does not read the Error frame cannot keep the connection beyond this.
    QTimer::singleShot(m_core->config.drainTimeoutMs(), this, &QObject::deleteLater);
}

// closeWithError(): writes what the outbox still holds, then closes.
void ServerConnection::flushLast()
{
    if (!m_stream || m_state->outbox->isClosed())
        return;
    if (!m_writer.flush(*m_state->outbox, m_stream, this, [this] { flushLast(); })) {
        m_writer.stop();
        m_state->outbox->close();
        m_stream->abort();
        deleteLater();
        return;
    }
    if (m_state->outbox->pendingBytes() > 0)
        return; // the writer calls again when the stream takes more
    m_writer.stop();
    m_state->outbox->close();
    m_stream->close(); // after what the stream itself holds; closed() then ends us
}

void ServerConnection::handleFrame(Frame &&frame)
{
    switch (frame.command) {
    case Frame::Request: {
        const qint64 bytes = Frame::HeaderSize + frame.extension.size() + frame.body.size();
        if (auto call = m_core->admit(std::move(frame), m_state)) {
            if (bytes > CountedRequestBytes) {
                // A request's memory stays counted until its call is done, moved from this
                // connection's reservation. The smallest are bounded by max-queued-calls (10,000
                // x 4 KiB at most) and cost no atomic operation here.
                call->budget = m_core->budget;
                call->budgetBytes = bytes;
                m_core->budget->force(bytes);
                m_account.shrinkFrame(qMax<qint64>(0, m_account.frameBytes() - bytes));
            }
            track(call);
            // An I/O-thread service's call runs here once this read's frames are parsed; a large
            // one goes to the business pool: decoding it would hold every connection of this
            // thread for long, and beside that work a hand-off costs little.
            if (call->service->dispatch == PublishOptions::Dispatch::IoThread && bytes <= InlineRequestBytes)
                m_inline.push_back(std::move(call));
            else
                m_core->dispatch(std::move(call));
        }
        return;
    }
    case Frame::KeepAliveRequest:
        m_state->outbox->post(Message::emptyFrame(Frame::KeepAliveResponse, frame.messageId, frame.serialization));
        return;
    case Frame::Cancel:
        cancel(frame.messageId);
        return;
    case Frame::Subscribe:
        // Ended ones (a cut, an unpublish) leave their entry until the client unsubscribes or
        // goes: count the live ones before refusing.
        if (m_subscriptions.size() >= MaxSubscriptions)
            m_subscriptions.erase(std::remove_if(m_subscriptions.begin(), m_subscriptions.end(),
                                                 [this](const auto &e) {
                                                     const auto hub = e.second.lock();
                                                     return !hub || !hub->has(m_state.get(), e.first);
                                                 }),
                                  m_subscriptions.end());
        if (m_subscriptions.size() >= MaxSubscriptions) {
            m_state->outbox->post(Message::errorResponse(
                frame.messageId, frame.serialization, RpcError::Overloaded,
                QStringLiteral("this connection holds %1 subscriptions, the most a server takes on one").arg(MaxSubscriptions)));
            return;
        }
        if (auto hub = m_core->subscribe(frame, m_state))
            m_subscriptions.emplace_back(frame.messageId, std::move(hub));
        return;
    case Frame::Unsubscribe: {
        // No answer; an id this connection never subscribed with is ignored.
        const auto it = std::find_if(m_subscriptions.begin(), m_subscriptions.end(),
                                     [&](const auto &e) { return e.first == frame.messageId; });
        if (it != m_subscriptions.end()) {
            if (auto hub = it->second.lock())
                hub->unsubscribe(m_state.get(), frame.messageId);
            m_subscriptions.erase(it);
        }
        return;
    }
    case Frame::Error: {
        // The peer ends the connection: no answer to it (docs/PROTOCOL.md section 3).
        Extension ext;
        QString ignored;
        Extension::decode(frame.extension, &ext, &ignored);
        qCWarning(lcTransport).noquote() << QStringLiteral("%1 ends the connection with an Error frame: code %2: %3")
                                                .arg(m_state->peer, QString::fromUtf8(ext.value(ExtensionKey::Code)),
                                                     QString::fromUtf8(ext.value(ExtensionKey::Message)));
        m_stream->close();
        return;
    }
    default: // Response, KeepAliveResponse (a server sends no KeepAliveRequest), or unknown
        m_state->outbox->post(Message::errorResponse(frame.messageId, frame.serialization, RpcError::BadRequest,
                                                     QStringLiteral("command %1 is not one a server accepts "
                                                                    "(1 Request, 3 KeepAliveRequest, 5 Cancel, 6 Error, "
                                                                    "7 Subscribe, 8 Unsubscribe)")
                                                         .arg(frame.command)));
        return;
    }
}

void ServerConnection::cancel(quint64 messageId)
{
    m_core->cancelRequests.fetch_add(1, std::memory_order_relaxed);
    const auto it = std::find_if(m_calls.begin(), m_calls.end(), [&](const auto &e) { return e.first == messageId; });
    if (it == m_calls.end())
        return;
    if (auto call = it->second.lock()) {
        int expected = ServerCall::Queued;
        call->state.compare_exchange_strong(expected, ServerCall::Cancelled);
        call->cancelRequested.store(true); // a running call sees it in CallContext::isCancelled()
        m_core->cancelFuture(call);        // an asynchronous one's future is cancelled
    }
    m_calls.erase(it);
}

void ServerConnection::track(const std::shared_ptr<ServerCall> &call)
{
    if (m_calls.size() >= m_purgeAt) {
        m_calls.erase(std::remove_if(m_calls.begin(), m_calls.end(), [](const auto &e) { return e.second.expired(); }),
                      m_calls.end());
        m_purgeAt = qMax<size_t>(16, m_calls.size() * 2);
    }
    m_calls.emplace_back(call->messageId, call);
}

void ServerConnection::flush()
{
    if (m_closing)
        return;
    if (!m_writer.flush(*m_state->outbox, m_stream, this, [this] { flush(); })) {
        m_stream->abort();
        deleteLater();
        return;
    }
    if (m_stopping) {
        // Every call read on this connection has been answered: say so before closing, with an
        // Error frame 204, so that the peer knows that whatever it sent and got no answer for
        // was not read and did not run, and may go elsewhere (docs/PROTOCOL.md section 3).
        // With a call still running (the drain timed out) there is no such promise to make.
        // A call answered a moment ago may still hold its state (and its count in `load`) on
        // the thread that answered it: look again shortly. (A call still running keeps it so
        // until the server's drain deadline closes the connection.)
        if (!m_saidGoodbye && m_state->outbox->pendingBytes() == 0 && m_state->load.load() > 0) {
            QTimer::singleShot(2, this, &ServerConnection::flush);
            return;
        }
        if (!m_saidGoodbye && m_state->outbox->pendingBytes() == 0) {
            m_saidGoodbye = true;
            m_state->outbox->post(Message::errorFrame(
                RpcError::ShuttingDown,
                QStringLiteral("the server is shutting down: requests on this connection that were not answered "
                               "were not read, and did not run")));
            flush();
            return;
        }
        if (m_state->outbox->pendingBytes() == 0) {
            m_closing = true;
            // Nothing more is taken (a signal from another thread would race the close).
            m_writer.stop();
            m_state->outbox->close();
            if (m_stream->isClosed())
                deleteLater();
            else
                m_stream->close(); // what the stream took goes out first; closed() then deletes us
        }
        return; // else the writer calls again when the stream takes more
    }
    if (m_readPaused && !overloaded()) {
        m_readPaused = false;
        if (m_frameStartedAt != std::chrono::steady_clock::time_point{})
            m_frameStartedAt = std::chrono::steady_clock::now(); // it waited for us, not we for it
        QMetaObject::invokeMethod(this, &ServerConnection::onReadyRead, Qt::QueuedConnection);
    }
}

void ServerConnection::peerFinished()
{
    if (m_peerClosed)
        return;
    m_peerClosed = true;
    m_peerClosedAt = std::chrono::steady_clock::now();
    finishWhenAnswered();
}

void ServerConnection::finishWhenAnswered()
{
    // Answers to a peer that finished sending still go out: through the outbox's own
    // descriptor on plain sockets, which outlives the stream's close of its read side.
    // Wait for the last one (bounded by the drain timeout), then go.
    // A call's state lives until its answer is posted (m_calls holds it weakly).
    const bool answered = !m_readPaused && m_state->outbox->pendingBytes() == 0
        && std::all_of(m_calls.begin(), m_calls.end(), [](const auto &e) { return e.second.expired(); });
    const bool tooLong = std::chrono::steady_clock::now() - m_peerClosedAt
        > std::chrono::milliseconds(m_core->config.drainTimeoutMs());
    // Without a direct descriptor (TLS) nothing can be written once the stream has ended.
    if (answered || tooLong || m_state->outbox->isClosed() || m_state->outbox->directDescriptor() < 0) {
        deleteLater();
        return;
    }
    QTimer::singleShot(5, this, &ServerConnection::finishWhenAnswered);
}

} // namespace Tomato
