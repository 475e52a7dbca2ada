// SPDX-License-Identifier: Apache-2.0
#include <tomato/status/httpconnection_p.h>

#include <tomato/core/logging_p.h>
#include <tomato/transport/stream_p.h>

#include <QtCore/QSocketNotifier>
#include <QtCore/QTimer>

#include <http_parser.h>

#include <climits>

namespace Tomato {

namespace {
// Request line and headers together, and so the request target alone, at most this long.
constexpr qsizetype MaxHeadBytes = 8 * 1024;
// What an error answer reads and throws away before it closes, so the close is a FIN rather
// than a reset that could overtake the answer.
constexpr int DiscardReads = 16;
// Pipelined requests answered in one go before the I/O thread's other connections get a turn.
// Small: pages are built on the I/O thread, which also carries RPC connections, and a flood
// of pipelined /metrics requests must not hold them up for more than a few page builds.
constexpr int AnswersPerPass = 4;
} // namespace

// The state of one HTTP connection. Lives on the stream's I/O thread, like its HttpConnection;
// http-parser calls back into it from parseRequest().
//
// One answer at a time: while an answer waits for the stream, nothing more is parsed or read
// (pipelined requests wait in the buffer, new bytes in the kernel). One timer bounds every
// wait: for a request (from the connection's start or the previous answer), for the peer to
// take an answer, and for a close to complete.
class HttpConnectionPrivate
{
public:
    HttpConnectionPrivate(HttpConnection *q, Stream *stream, QByteArray received,
                          std::shared_ptr<const StatusPages> pages, int requestTimeoutMs);
    ~HttpConnectionPrivate();

    void start();
    void resume();
    void onReadyRead();
    void onStreamClosed();
    void onWritable();
    void onTimeout();

    void appendInput(QByteArray &&bytes);
    void process();
    bool parseRequest();
    int failure(QString *message) const;
    void requestComplete();
    void resetRequest();
    void answer();
    void refuse(int status, const QString &message);
    QByteArray serialize(const HttpReply &reply, bool withBody, bool keepAlive) const;
    void send(QByteArray &&answer, bool last);
    bool writeOutput();
    void watchWritable(bool on);
    void answered();
    void discardInput();
    void closeConnection();
    void abandon(const QString &why);

    // http-parser callbacks; `data` is the HttpConnectionPrivate.
    static const http_parser_settings &settings();
    static int onMessageBegin(http_parser *parser);
    static int onUrl(http_parser *parser, const char *at, size_t length);
    static int onHeaderField(http_parser *parser, const char *at, size_t length);
    static int onHeadersComplete(http_parser *parser);
    static int onBody(http_parser *parser, const char *at, size_t length);
    static int onMessageComplete(http_parser *parser);
    int fail(int status, const QString &message);

    HttpConnection *q;
    Stream *m_stream;
    std::shared_ptr<const StatusPages> m_pages;
    const int m_timeoutMs;
    QTimer m_timer;
    FrameParser m_sink; // a byte sink for Stream::readInto()
    http_parser m_parser;

    QByteArray m_input; // received, not parsed yet from m_inputPos on
    qsizetype m_inputPos = 0;
    QByteArray m_output; // the answer being written, from m_outputPos on
    qsizetype m_outputPos = 0;
    QSocketNotifier *m_writeNotifier = nullptr; // streams with a direct descriptor
    QMetaObject::Connection m_writableConnection; // the others (TLS)

    // The request being parsed.
    QByteArray m_method;
    QByteArray m_target;
    qsizetype m_requestBytes = 0; // parsed since it began (leading empty lines included)
    bool m_requestBegun = false;
    bool m_headerSeen = false;  // past the request line
    bool m_complete = false;    // parsed whole; the parser is paused until it is answered
    bool m_keepAlive = false;
    int m_errorStatus = 0;      // refused by a callback
    QString m_errorMessage;

    bool m_lastAnswer = false;   // close once m_output is written
    bool m_peerFinished = false; // nothing more will arrive
    bool m_closing = false;      // closing or closed: nothing more is read, parsed or sent
};

HttpConnectionPrivate::HttpConnectionPrivate(HttpConnection *q, Stream *stream, QByteArray received,
                                             std::shared_ptr<const StatusPages> pages, int requestTimeoutMs)
    : q(q), m_stream(stream), m_pages(std::move(pages)), m_timeoutMs(qMax(1, requestTimeoutMs)),
      m_input(std::move(received))
{
    http_parser_init(&m_parser, HTTP_REQUEST);
    m_parser.data = this;
    m_timer.setSingleShot(true);
    m_timer.setInterval(m_timeoutMs);
}

HttpConnectionPrivate::~HttpConnectionPrivate()
{
    // The notifier watches the stream's descriptor: it goes first. The stream goes before the
    // rest of us (not with the QObject's children, after this), so nothing it emits on its way
    // out can reach a half-destroyed connection.
    delete m_writeNotifier;
    QObject::disconnect(m_stream, nullptr, q, nullptr);
    delete m_stream;
}

// The first pass, queued by the constructor: the bytes that came with the connection, then
// whatever else the stream holds. (Not from inside the constructor: the one creating the
// connection may still be on its way out of the stream's signals.)
void HttpConnectionPrivate::start()
{
    if (m_closing)
        return;
    if (!m_stream->isReady()) {
        if (m_stream->isClosed())
            q->deleteLater(); // it never came up
        return;               // else ready() follows
    }
    resume();
}

void HttpConnectionPrivate::onReadyRead()
{
    // Flow control: while an answer waits for the peer, or pipelined requests wait for their
    // turn (resume() follows), new ones wait unread.
    if (m_closing || m_peerFinished || !m_output.isEmpty() || m_inputPos < m_input.size() || !m_stream->isReady())
        return;
    const bool open = m_stream->readInto(m_sink);
    appendInput(m_sink.takeBuffered());
    if (!open)
        m_peerFinished = true;
    process();
}

void HttpConnectionPrivate::onStreamClosed()
{
    // Ended by us (closeConnection(), abandon()) or the stream noticed by itself that the peer
    // left: a TLS stream cannot write any more either way.
    if (!m_closing)
        qCDebug(lcTransport).noquote() << "HTTP connection from" << m_stream->peer() << "ended:" << m_stream->errorString();
    m_closing = true;
    watchWritable(false);
    q->deleteLater();
}

void HttpConnectionPrivate::onTimeout()
{
    if (m_closing) {
        abandon(QStringLiteral("the close did not complete within %1 ms").arg(m_timeoutMs));
        return;
    }
    if (!m_output.isEmpty()) {
        abandon(QStringLiteral("the peer did not take its answer within %1 ms").arg(m_timeoutMs));
        return;
    }
    if (m_requestBegun || m_requestBytes > 0) {
        refuse(408, QStringLiteral("the request did not arrive whole within %1 ms").arg(m_timeoutMs));
        return;
    }
    closeConnection(); // idle
}

void HttpConnectionPrivate::appendInput(QByteArray &&bytes)
{
    if (bytes.isEmpty())
        return;
    if (m_inputPos == m_input.size()) {
        m_input = std::move(bytes);
        m_inputPos = 0;
        return;
    }
    m_input.remove(0, m_inputPos);
    m_inputPos = 0;
    m_input.append(bytes);
}

// Answers the complete requests buffered, in order, as far as the stream takes the answers;
// closes once the peer has finished and everything it sent is answered. A long pipeline goes
// on in a later pass, so the other connections of the I/O thread get their turn.
void HttpConnectionPrivate::process()
{
    for (int answered = 0; !m_closing && m_output.isEmpty(); ++answered) {
        if (answered == AnswersPerPass) {
            QMetaObject::invokeMethod(q, [this] { resume(); }, Qt::QueuedConnection);
            return;
        }
        if (!parseRequest())
            break;
    }
    if (!m_closing && m_output.isEmpty() && m_peerFinished)
        closeConnection(); // a partial request of a peer that finished sending is not answered
}

// Goes on after a pause: the requests already buffered, then those waiting in the kernel.
void HttpConnectionPrivate::resume()
{
    process();
    onReadyRead();
}

// Feeds the buffered bytes to the parser until a request is complete or refused (true: it is
// answered) or they run out (false). Never more than one byte past the head limit goes in.
bool HttpConnectionPrivate::parseRequest()
{
    while (m_inputPos < m_input.size()) {
        const qsizetype room = MaxHeadBytes + 1 - m_requestBytes;
        const qsizetype length = qMin(m_input.size() - m_inputPos, room);
        const size_t parsed = http_parser_execute(&m_parser, &settings(), m_input.constData() + m_inputPos,
                                                  size_t(length));
        m_inputPos += qsizetype(parsed);
        m_requestBytes += qsizetype(parsed);
        if (m_complete) {
            requestComplete();
            return true;
        }
        QString message;
        if (const int status = failure(&message)) {
            refuse(status, message);
            return true;
        }
        if (parsed < size_t(length)) { // http-parser stopped without saying why
            refuse(400, QStringLiteral("malformed request"));
            return true;
        }
    }
    m_input.clear();
    m_inputPos = 0;
    return false;
}

// Why the request being parsed is refused (its status), or 0 while it may still come whole.
int HttpConnectionPrivate::failure(QString *message) const
{
    if (m_errorStatus) {
        *message = m_errorMessage;
        return m_errorStatus;
    }
    const http_errno error = HTTP_PARSER_ERRNO(&m_parser);
    if (error != HPE_OK) {
        *message = QStringLiteral("malformed request: %1").arg(QLatin1String(http_errno_description(error)));
        return 400;
    }
    if (m_requestBytes > MaxHeadBytes && !m_headerSeen) {
        *message = QStringLiteral("the request target is longer than %1 bytes").arg(MaxHeadBytes);
        return 414;
    }
    if (m_requestBytes > MaxHeadBytes) {
        *message = QStringLiteral("the request line and headers are longer than %1 bytes").arg(MaxHeadBytes);
        return 431;
    }
    return 0;
}

void HttpConnectionPrivate::requestComplete()
{
    m_complete = false;
    http_parser_pause(&m_parser, 0);
    if (m_requestBytes > MaxHeadBytes) {
        refuse(431, QStringLiteral("the request line and headers are longer than %1 bytes").arg(MaxHeadBytes));
        return;
    }
    answer();
    resetRequest();
}

void HttpConnectionPrivate::resetRequest()
{
    m_method.clear();
    m_target.clear();
    m_requestBytes = 0;
    m_requestBegun = false;
    m_headerSeen = false;
}

void HttpConnectionPrivate::answer()
{
    const HttpReply reply = m_pages->handle(m_method, m_target);
    qCDebug(lcTransport).noquote() << "HTTP" << m_method << m_target << "from" << m_stream->peer() << "->" << reply.status;
    send(serialize(reply, m_method != "HEAD", m_keepAlive), !m_keepAlive);
}

// An error answer, then the end of the connection.
void HttpConnectionPrivate::refuse(int status, const QString &message)
{
    qCDebug(lcTransport).noquote() << "refusing an HTTP request from" << m_stream->peer() + QLatin1Char(':')
                                   << status << message;
    discardInput();
    m_input.clear();
    m_inputPos = 0;
    HttpReply reply = HttpReply::error(status, message);
    if (status == 405)
        reply.headers.append(std::pair<QByteArray, QByteArray>("Allow", "GET, HEAD"));
    send(serialize(reply, true, false), true);
}

QByteArray HttpConnectionPrivate::serialize(const HttpReply &reply, bool withBody, bool keepAlive) const
{
    QByteArray out;
    out.reserve(256 + (withBody ? reply.body.size() : 0));
    out += "HTTP/1.1 " + QByteArray::number(reply.status) + ' ' + HttpReply::reasonPhrase(reply.status) + "\r\n";
    if (!reply.contentType.isEmpty())
        out += "Content-Type: " + reply.contentType + "\r\n";
    out += "Content-Length: " + QByteArray::number(reply.body.size()) + "\r\n";
    out += keepAlive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
    for (const auto &header : reply.headers)
        out += header.first + ": " + header.second + "\r\n";
    out += "Cache-Control: no-store\r\n\r\n";
    if (withBody)
        out += reply.body;
    return out;
}

void HttpConnectionPrivate::send(QByteArray &&answer, bool last)
{
    m_output = std::move(answer);
    m_outputPos = 0;
    m_lastAnswer = last;
    m_timer.start(); // the peer has until then to take it
    if (writeOutput())
        answered();
}

// Writes what the stream takes: true once the whole answer is out. Otherwise the rest goes
// when the stream is writable again, or the connection is abandoned when it broke.
bool HttpConnectionPrivate::writeOutput()
{
    while (m_outputPos < m_output.size()) {
        const qint64 written = m_stream->write(m_output.constData() + m_outputPos, m_output.size() - m_outputPos);
        if (written < 0) {
            abandon(QStringLiteral("writing failed"));
            return false;
        }
        if (written == 0) {
            watchWritable(true);
            return false;
        }
        m_outputPos += qsizetype(written);
        m_timer.start(); // the peer reads: it has another while for the rest
    }
    m_output.clear();
    m_outputPos = 0;
    watchWritable(false);
    return true;
}

void HttpConnectionPrivate::watchWritable(bool on)
{
    if (m_writeNotifier)
        m_writeNotifier->setEnabled(on);
    if (!on || m_writeNotifier || m_writableConnection)
        return;
    const SharedWriter writer = m_stream->directWriter();
    if (!writer) {
        m_writableConnection = QObject::connect(m_stream, &Stream::writable, q, [this] { onWritable(); });
        return;
    }
    m_writeNotifier = new QSocketNotifier(writer->descriptor(), QSocketNotifier::Write, q);
    QObject::connect(m_writeNotifier, &QSocketNotifier::activated, q, [this] { onWritable(); });
}

void HttpConnectionPrivate::onWritable()
{
    if (m_closing || m_output.isEmpty() || !writeOutput())
        return;
    answered();
    resume();
}

// The whole answer is out: the connection ends, or waits for the next request.
void HttpConnectionPrivate::answered()
{
    if (m_lastAnswer)
        closeConnection();
    else
        m_timer.start();
}

// Reads and drops what has arrived already, so that closing does not reset the connection
// under the answer (bounded: a peer that keeps sending gets its reset).
void HttpConnectionPrivate::discardInput()
{
    for (int i = 0; i < DiscardReads && !m_peerFinished; ++i) {
        if (!m_stream->readInto(m_sink))
            m_peerFinished = true;
        if (m_sink.takeBuffered().isEmpty())
            break;
    }
}

// Closes once what was written has gone out; the stream's closed() then deletes us.
void HttpConnectionPrivate::closeConnection()
{
    m_closing = true;
    watchWritable(false);
    m_timer.start(); // a TLS close waits for the peer; not for ever
    const bool ended = m_stream->isClosed(); // no closed() follows for a stream already ended
    m_stream->close();
    if (ended)
        q->deleteLater();
}

void HttpConnectionPrivate::abandon(const QString &why)
{
    qCDebug(lcTransport).noquote() << "dropping the HTTP connection from" << m_stream->peer() + QLatin1Char(':') << why;
    m_closing = true;
    watchWritable(false);
    m_timer.stop();
    m_stream->abort();
    q->deleteLater();
}

// ---- http-parser callbacks --------------------------------------------------------------------

const http_parser_settings &HttpConnectionPrivate::settings()
{
    static const http_parser_settings settings = [] {
        http_parser_settings s;
        http_parser_settings_init(&s);
        s.on_message_begin = &HttpConnectionPrivate::onMessageBegin;
        s.on_url = &HttpConnectionPrivate::onUrl;
        s.on_header_field = &HttpConnectionPrivate::onHeaderField;
        s.on_headers_complete = &HttpConnectionPrivate::onHeadersComplete;
        s.on_body = &HttpConnectionPrivate::onBody;
        s.on_message_complete = &HttpConnectionPrivate::onMessageComplete;
        return s;
    }();
    return settings;
}

int HttpConnectionPrivate::onMessageBegin(http_parser *parser)
{
    static_cast<HttpConnectionPrivate *>(parser->data)->m_requestBegun = true;
    return 0;
}

int HttpConnectionPrivate::onUrl(http_parser *parser, const char *at, size_t length)
{
    auto *d = static_cast<HttpConnectionPrivate *>(parser->data);
    if (d->m_target.size() + qsizetype(length) > MaxHeadBytes)
        return d->fail(414, QStringLiteral("the request target is longer than %1 bytes").arg(MaxHeadBytes));
    d->m_target.append(at, qsizetype(length));
    return 0;
}

int HttpConnectionPrivate::onHeaderField(http_parser *parser, const char *, size_t)
{
    static_cast<HttpConnectionPrivate *>(parser->data)->m_headerSeen = true;
    return 0;
}

int HttpConnectionPrivate::onHeadersComplete(http_parser *parser)
{
    auto *d = static_cast<HttpConnectionPrivate *>(parser->data);
    d->m_headerSeen = true;
    if (parser->http_major != 1 || parser->http_minor > 1)
        return d->fail(505, QStringLiteral("HTTP/%1.%2 is not spoken here: HTTP/1.1 or HTTP/1.0")
                                .arg(parser->http_major).arg(parser->http_minor));
    d->m_method = http_method_str(http_method(parser->method));
    const bool body = (parser->flags & F_CHUNKED) || (parser->content_length > 0 && parser->content_length != ULLONG_MAX);
    if (body && d->m_method != "GET" && d->m_method != "HEAD") // a POST is refused for what it is
        return d->fail(405, QStringLiteral("the status pages are read-only: GET or HEAD"));
    if (body)
        return d->fail(413, QStringLiteral("the status pages take no request body"));
    // After an upgrade (or CONNECT) what follows is no HTTP: answer, then close.
    d->m_keepAlive = http_should_keep_alive(parser) && !parser->upgrade;
    return 0;
}

int HttpConnectionPrivate::onBody(http_parser *parser, const char *, size_t)
{
    return static_cast<HttpConnectionPrivate *>(parser->data)->fail(413, QStringLiteral("the status pages take no request body"));
}

int HttpConnectionPrivate::onMessageComplete(http_parser *parser)
{
    static_cast<HttpConnectionPrivate *>(parser->data)->m_complete = true;
    http_parser_pause(parser, 1); // one request at a time: the next stays buffered
    return 0;
}

int HttpConnectionPrivate::fail(int status, const QString &message)
{
    m_errorStatus = status;
    m_errorMessage = message;
    return -1; // http-parser stops (on_headers_complete: 1 and 2 would mean something else)
}

// ---- HttpConnection ---------------------------------------------------------------------------

HttpConnection::HttpConnection(Stream *stream, QByteArray received, std::shared_ptr<const StatusPages> pages,
                               int requestTimeoutMs, QObject *parent, ConnectionSlot slot)
    : QObject(parent),
      d(std::make_unique<HttpConnectionPrivate>(this, stream, std::move(received), std::move(pages), requestTimeoutMs)),
      m_slot(std::move(slot))
{
    stream->setParent(this);
    HttpConnectionPrivate *p = d.get();
    connect(stream, &Stream::closed, this, [p] { p->onStreamClosed(); });
    connect(stream, &Stream::ready, this, [p] { p->onReadyRead(); });
    connect(stream, &Stream::readyRead, this, [p] { p->onReadyRead(); });
    connect(&d->m_timer, &QTimer::timeout, this, [p] { p->onTimeout(); });
    d->m_timer.start(); // the first request's time runs from the connection's start
    QMetaObject::invokeMethod(this, [p] { p->start(); }, Qt::QueuedConnection);
}

HttpConnection::~HttpConnection() = default;

} // namespace Tomato
