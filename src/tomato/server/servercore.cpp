// SPDX-License-Identifier: Apache-2.0
#include <tomato/server/servercore_p.h>

#include <tomato/core/logging_p.h>
#include <tomato/core/tsan_p.h>
#include <tomato/server/callcontext.h>
#include <tomato/serialization/marshal_p.h>
#include <tomato/wire/extension_p.h>
#include <tomato/wire/message_p.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QCryptographicHash>
#include <QtCore/QThread>
#include <QtCore/QVarLengthArray>

#include <cstddef>

#include <algorithm>
#include <cxxabi.h>
#include <typeinfo>

namespace Tomato {

namespace {

using Clock = std::chrono::steady_clock;

QString demangle(const char *name)
{
    int status = 0;
    char *d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
    QString s = QString::fromLatin1(status == 0 && d ? d : name);
    std::free(d);
    return s;
}

QString signatureOf(const ServerCall &call)
{
    return QString::fromLatin1(call.service->info.serviceName + "::" + call.method->signature);
}

// Destroys the objects created for one call's arguments and result, whatever happens.
class CallStorage
{
public:
    explicit CallStorage(const MethodInfo &m)
        : m_method(m)
    {
        m_argv.resize(m.parameterTypes.size() + 1);
        m_argv[0] = m.invokeReturnType.isValid() ? make(m.invokeReturnType) : nullptr;
        for (qsizetype i = 0; i < m.parameterTypes.size(); ++i)
            m_argv[i + 1] = make(m.parameterTypes.at(i));
    }
    ~CallStorage()
    {
        if (m_argv[0])
            unmake(m_method.invokeReturnType, m_argv[0]);
        for (qsizetype i = 0; i < m_method.parameterTypes.size(); ++i)
            unmake(m_method.parameterTypes.at(i), m_argv[i + 1]);
    }
    CallStorage(const CallStorage &) = delete;
    CallStorage &operator=(const CallStorage &) = delete;
    void **argv() { return m_argv.data(); }
    void *const *arguments() { return m_argv.data() + 1; }
    const void *result() const { return m_argv[0]; }

private:
    // Values that fit live in the storage itself (strings, numbers, small gadgets): no heap
    // allocation per argument on the way of every call.
    void *make(QMetaType type)
    {
        const qsizetype align = qMax<qsizetype>(1, type.alignOf());
        const qsizetype at = (m_used + align - 1) / align * align;
        if (align > qsizetype(alignof(std::max_align_t)) || at + type.sizeOf() > qsizetype(sizeof(m_inline)))
            return type.create();
        m_used = at + type.sizeOf();
        return type.construct(m_inline + at);
    }
    void unmake(QMetaType type, void *value)
    {
        const auto at = reinterpret_cast<quintptr>(value), begin = reinterpret_cast<quintptr>(m_inline);
        if (at >= begin && at < begin + sizeof(m_inline))
            type.destruct(value);
        else
            type.destroy(value);
    }

    const MethodInfo &m_method;
    QVarLengthArray<void *, 8> m_argv;
    alignas(std::max_align_t) unsigned char m_inline[256];
    qsizetype m_used = 0;
};

} // namespace

// ---- metrics ------------------------------------------------------------------------------

int MethodMetrics::codeSlot(RpcError::Code code)
{
    if (code == RpcError::Ok)
        return 0;
    if (code >= RpcError::UnknownService && code <= RpcError::UnknownService + Codes - 2)
        return code - RpcError::UnknownService + 1;
    return codeSlot(RpcError::Internal); // a code of the future: counted as Internal
}

RpcError::Code MethodMetrics::codeOfSlot(int slot)
{
    return slot == 0 ? RpcError::Ok : RpcError::Code(RpcError::UnknownService + slot - 1);
}

void MethodMetrics::record(RpcError::Code code, Clock::duration took)
{
    count(code);
    const double seconds = std::chrono::duration<double>(took).count();
    int bucket = 0;
    while (bucket < Buckets - 1 && seconds > bucketBounds[bucket])
        ++bucket;
    buckets[bucket].fetch_add(1, std::memory_order_relaxed);
    sumNs.fetch_add(quint64(std::chrono::duration_cast<std::chrono::nanoseconds>(took).count()),
                    std::memory_order_relaxed);
}

ServerCall::~ServerCall()
{
    if (auto owner = deadlineOwner.lock())
        owner->forgetDeadline(this);
    if (budgetBytes > 0)
        budget->give(budgetBytes);
    if (connection && connection->load.fetch_sub(1) == ResumeLoad + 1)
        connection->outbox->scheduleFlush(); // the connection may be waiting to read again
}

namespace {
// A frame must fit the share of max-buffered-bytes large frames may use, or it could never be
// received: past it, frames are refused as too large.
qint64 receivableFrameBytes(const RpcConfig &cfg)
{
    const qint64 largeShare = cfg.maxBufferedBytes() - cfg.maxBufferedBytes() / 8;
    if (cfg.maxFrameBytes() <= largeShare)
        return cfg.maxFrameBytes();
    qCWarning(lcServer).noquote() << QStringLiteral("max-frame-bytes (%1) is more than 7/8 of max-buffered-bytes (%2): "
                                                    "frames over %3 bytes are refused")
                                         .arg(cfg.maxFrameBytes()).arg(cfg.maxBufferedBytes()).arg(largeShare);
    return largeShare;
}
} // namespace

ServerCore::ServerCore(const RpcConfig &cfg)
    : config(cfg),
      maxFrameBytes(receivableFrameBytes(cfg)),
      compressionThreshold(cfg.compressionThresholdBytes()),
      maxQueuedCalls(cfg.maxQueuedCalls()),
      maxQueuedPerConnection(cfg.maxQueuedPerConnection()),
      budget(std::make_shared<BufferBudget>(cfg.maxBufferedBytes(), cfg.maxBufferedWaitMs())),
      limits(cfg.maxConnections() > 0 ? cfg.maxConnections() : derivedMaxConnections(), cfg.maxConnectionsPerHost()),
      m_serverFull(QStringLiteral("server overloaded: %1 calls queued (max-queued-calls)").arg(maxQueuedCalls)),
      m_connectionFull(QStringLiteral("connection overloaded: %1 calls of this connection queued "
                                      "(max-queued-per-connection)").arg(maxQueuedPerConnection)),
      m_applicationOverloaded(QStringLiteral("the application says it is overloaded"))
{
    businessPool.setMaxThreadCount(cfg.businessThreads());
    businessPool.setObjectName(QStringLiteral("tomato-business"));
}

ServerCore::~ServerCore()
{
    businessPool.waitForDone();
}

// ---- the service table -------------------------------------------------------------------

void ServerCore::addService(std::shared_ptr<const Service> service)
{
    std::shared_ptr<const Service> replaced;
    {
        QWriteLocker lock(&m_servicesLock);
        replaced = m_services.value(service->info.serviceName);
        m_services.insert(service->info.serviceName, std::move(service));
    }
    if (replaced && replaced->hub)
        replaced->hub->detach(RpcError::UnknownService,
                              QStringLiteral("%1 was published again: subscribe again")
                                  .arg(QString::fromLatin1(replaced->info.serviceName)));
}

std::shared_ptr<const Service> ServerCore::removeService(const QByteArray &name)
{
    QWriteLocker lock(&m_servicesLock);
    std::shared_ptr<const Service> service = m_services.take(name);
    if (service)
        service->withdrawn.store(true);
    lock.unlock();
    if (service && service->hub)
        service->hub->detach(RpcError::UnknownService,
                             QStringLiteral("%1 was unpublished").arg(QString::fromLatin1(name)));
    return service;
}

std::shared_ptr<const Service> ServerCore::service(QByteArrayView name) const
{
    QReadLocker lock(&m_servicesLock);
    return m_services.value(QByteArray::fromRawData(name.data(), name.size())); // no allocation
}

QStringList ServerCore::serviceNames() const
{
    QReadLocker lock(&m_servicesLock);
    QStringList names;
    for (auto it = m_services.cbegin(); it != m_services.cend(); ++it)
        names << QString::fromLatin1(it.key());
    names.sort();
    return names;
}

QList<std::shared_ptr<const Service>> ServerCore::allServices() const
{
    QReadLocker lock(&m_servicesLock);
    QList<std::shared_ptr<const Service>> out;
    for (const auto &service : m_services)
        out.append(service);
    std::sort(out.begin(), out.end(), [](const auto &a, const auto &b) { return a->info.serviceName < b->info.serviceName; });
    return out;
}

int ServerCore::queuedCalls() const
{
    QMutexLocker lock(&m_queueMutex);
    return int(m_queue.size());
}

QStringList ServerCore::signatures() const
{
    QReadLocker lock(&m_servicesLock);
    QStringList out;
    for (const auto &service : m_services) {
        if (service->builtin)
            continue;
        for (const MethodInfo &m : service->info.methods)
            out << QString::fromLatin1(service->info.serviceName + "::" + m.signature);
    }
    return out;
}

QString ServerCore::interfacesHash(const QStringList &signatures)
{
    QStringList sorted = signatures;
    sorted.sort();
    return QString::fromLatin1(
        QCryptographicHash::hash(sorted.join(QLatin1Char('\n')).toUtf8(), QCryptographicHash::Sha1).toHex().left(12));
}

// ---- admission (I/O thread) --------------------------------------------------------------

std::shared_ptr<ServerCall> ServerCore::admit(Frame &&frame, const std::shared_ptr<ConnectionState> &connection)
{
    callsReceived.fetch_add(1, std::memory_order_relaxed);
    auto call = std::make_shared<ServerCall>();
    call->messageId = frame.messageId;
    call->arrival = Clock::now(); // the latency's start, and what the caller's deadline counts from
    std::optional<Failure> refusal = check(frame, *connection, call.get());
    if (!refusal)
        refusal = enqueue(*connection); // last: only a call that would run takes a place
    if (refusal) {
        callsFailed.fetch_add(1, std::memory_order_relaxed);
        (call->method ? call->service->metricsOf(call->method) : unknownMetrics).count(refusal->code);
        if (lcServer().isDebugEnabled())
            qCDebug(lcServer).noquote() << QStringLiteral("call %1 from %2 refused: %3 (%4)")
                                               .arg(QString::number(frame.messageId), connection->peer,
                                                    RpcError::codeName(refusal->code), refusal->message);
        QByteArray answer = Message::errorResponse(frame.messageId, frame.serialization, refusal->code, refusal->message);
        bytesSent.fetch_add(quint64(answer.size()), std::memory_order_relaxed);
        connection->outbox->post(std::move(answer));
        return nullptr;
    }
    call->body = std::move(frame.body);
    call->extension = std::move(frame.extension);
    call->connection = connection;
    connection->owed.fetch_add(1);
    connection->load.fetch_add(1);
    return call; // enqueue() counted it in callsInFlight
}

std::optional<Failure> ServerCore::check(const Frame &frame, const ConnectionState &connection,
                                         ServerCall *call) const
{
    if (frame.serialization > quint8(Serialization::Json))
        return Failure{RpcError::UnsupportedSerialization,
                       QStringLiteral("serialization %1 is not supported (0 = CBOR, 1 = JSON)").arg(frame.serialization)};
    call->serialization = Serialization(frame.serialization);
    Extension ext;
    QString error;
    if (!Extension::decode(frame.extension, &ext, &error))
        return Failure{RpcError::BadRequest, error};
    Message::RequestHeader header;
    RpcError::Code code = RpcError::BadRequest;
    if (!Message::readRequest(ext, &header, &code, &error))
        return Failure{code, error};
    if (shuttingDown.load())
        return Failure{RpcError::ShuttingDown, QStringLiteral("the server is shutting down")};
    if (auto refusal = lookup(header.service, header.method, connection, call))
        return refusal;
    call->compression = header.compression;
    // Clamped (to a year): a huge budget must not overflow the clock arithmetic.
    if (header.timeoutMs > 0)
        call->deadline = call->arrival + std::chrono::milliseconds(qMin<qint64>(header.timeoutMs, 365LL * 24 * 3600 * 1000));
    return std::nullopt;
}

std::optional<Failure> ServerCore::lookup(QByteArrayView serviceName, QByteArrayView methodName,
                                          const ConnectionState &connection, ServerCall *call) const
{
    auto found = service(serviceName);
    if (!found)
        return Failure{RpcError::UnknownService,
                       QStringLiteral("service '%1' is not published here (published: %2)")
                           .arg(QString::fromUtf8(serviceName), serviceNames().join(QLatin1String(", ")))};
    const MethodInfo *method = found->info.find(methodName);
    if (!method)
        return Failure{RpcError::UnknownMethod, QStringLiteral("service '%1' has no method '%2'")
                                                    .arg(QString::fromUtf8(serviceName), QString::fromUtf8(methodName))};
    if (auto refusal = permitted(*found, serviceName, connection))
        return refusal;
    call->service = std::move(found);
    call->method = method;
    return std::nullopt;
}

std::optional<Failure> ServerCore::permitted(const Service &service, QByteArrayView serviceName,
                                             const ConnectionState &connection)
{
    const QSet<QString> &allowed = service.allowedClients;
    if (!allowed.isEmpty() && (connection.commonName.isEmpty()
                               || !(allowed.contains(connection.commonName) || allowed.contains(QStringLiteral("*"))))) {
        const QString who = connection.commonName.isEmpty()
            ? QStringLiteral("%1, without a verified client certificate,").arg(connection.peer)
            : QStringLiteral("client '%1' (%2)").arg(connection.commonName, connection.peer);
        return Failure{RpcError::PermissionDenied, QStringLiteral("%1 may not call %2 (tls-allowed-clients)")
                                                       .arg(who, QString::fromUtf8(serviceName))};
    }
    return std::nullopt;
}

std::shared_ptr<SignalHub> ServerCore::subscribe(const Frame &frame, const std::shared_ptr<ConnectionState> &connection)
{
    auto refuse = [&](RpcError::Code code, const QString &message) {
        connection->outbox->post(Message::errorResponse(frame.messageId, frame.serialization, code, message));
        return nullptr;
    };
    if (frame.serialization > quint8(Serialization::Json))
        return refuse(RpcError::UnsupportedSerialization,
                      QStringLiteral("serialization %1 is not supported (0 = CBOR, 1 = JSON)").arg(frame.serialization));
    Extension ext;
    QString error;
    if (!Extension::decode(frame.extension, &ext, &error))
        return refuse(RpcError::BadRequest, error);
    const QByteArrayView serviceName = ext.view(ExtensionKey::Service);
    const QByteArrayView signalName = ext.view(ExtensionKey::Signal);
    if (serviceName.isEmpty() || signalName.isEmpty())
        return refuse(RpcError::BadRequest, QStringLiteral("a Subscribe needs a non-empty '%1'")
                                                .arg(QLatin1String(serviceName.isEmpty() ? ExtensionKey::Service
                                                                                         : ExtensionKey::Signal)));
    if (shuttingDown.load())
        return refuse(RpcError::ShuttingDown, QStringLiteral("the server is shutting down"));
    const auto found = service(serviceName);
    if (!found)
        return refuse(RpcError::UnknownService, QStringLiteral("service '%1' is not published here (published: %2)")
                                                    .arg(QString::fromUtf8(serviceName),
                                                         serviceNames().join(QLatin1String(", "))));
    const SignalInfo *signal = found->info.findSignal(signalName);
    if (!signal || !found->hub) {
        QStringList known;
        for (const SignalInfo &s : found->info.remoteSignals)
            known << QString::fromLatin1(s.name);
        return refuse(RpcError::UnknownMethod, QStringLiteral("service '%1' has no signal '%2' (signals: %3)")
                                                   .arg(QString::fromUtf8(serviceName), QString::fromUtf8(signalName),
                                                        known.isEmpty() ? QStringLiteral("none")
                                                                        : known.join(QLatin1String(", "))));
    }
    if (auto refusal = permitted(*found, serviceName, *connection))
        return refuse(refusal->code, refusal->message);
    FrameBuilder confirmation;
    confirmation.addNumber(ExtensionKey::Code, 0);
    if (!found->hub->subscribe(signal->relative, connection, frame.messageId, Serialization(frame.serialization),
                               confirmation.finish(Frame::Response, frame.serialization, frame.messageId)))
        return refuse(RpcError::BadRequest, QStringLiteral("subscription id %1 is in use on this connection")
                                                .arg(frame.messageId));
    qCDebug(lcServer).noquote() << connection->peer << "subscribed to" << QString::fromUtf8(serviceName) + "::"
                                       + QString::fromLatin1(signal->name) << "as" << frame.messageId;
    return found->hub;
}

// Takes a place for the call in the queue bounds (callsInFlight), or says why it gets none:
// the application says the server is overloaded, or the connection's or the server's bound
// is reached. Only this I/O thread adds to a connection's load (others only take away), so a
// plain read bounds it exactly; callsInFlight is shared by every I/O thread, so its place is
// taken by compare-and-swap (no more than one atomic operation per call when uncontended,
// as the increment it replaces, and a refused call never shows in the count).
std::optional<Failure> ServerCore::enqueue(const ConnectionState &connection)
{
    std::optional<Failure> refusal;
    if (overloaded.load(std::memory_order_relaxed)) {
        refusal = Failure{RpcError::Overloaded, m_applicationOverloaded};
    } else if (connection.load.load(std::memory_order_relaxed) >= maxQueuedPerConnection) {
        refusal = Failure{RpcError::Overloaded, m_connectionFull};
    } else {
        int queued = callsInFlight.load(std::memory_order_relaxed);
        do {
            if (queued >= maxQueuedCalls) {
                refusal = Failure{RpcError::Overloaded, m_serverFull};
                break;
            }
        } while (!callsInFlight.compare_exchange_weak(queued, queued + 1));
    }
    if (refusal)
        callsOverloaded.fetch_add(1, std::memory_order_relaxed);
    return refusal;
}

// ---- dispatch ------------------------------------------------------------------------------

void ServerCore::dispatch(std::shared_ptr<ServerCall> call)
{
    QObject *impl = call->service->implementation.data();
    if (impl && call->service->dispatch == PublishOptions::Dispatch::ObjectThread) {
        // The functor may outlive the server (a busy object thread after a timed-out drain)
        // or never run (the object is deleted first): it holds the core weakly, and a call
        // it never ran is answered UnknownService when Qt drops it.
        struct Queued
        {
            std::weak_ptr<ServerCore> core;
            std::shared_ptr<ServerCall> call;
            bool ran = false;
            ~Queued()
            {
                if (ran)
                    return;
                if (auto c = core.lock())
                    c->abandon(call, QStringLiteral("the implementation object was deleted"));
            }
        };
        // Built in place: a temporary Queued would answer the call from its destructor.
        auto queued = std::make_shared<Queued>();
        queued->core = weak_from_this();
        queued->call = std::move(call);
        QMetaObject::invokeMethod(impl, [queued] {
            queued->ran = true;
            if (auto c = queued->core.lock())
                c->execute(queued->call);
        }, Qt::QueuedConnection);
        return;
    }
    // Calls wait in one queue that pool tasks drain; a new task starts only while fewer
    // drainers run than the pool has threads. A burst of pipelined requests then costs a
    // thread wake-up or two instead of one pool task (allocation, lock, wake-up) per call,
    // and a slow call never holds up the others: any free drainer takes the next one.
    QMutexLocker lock(&m_queueMutex);
    m_queue.push_back(std::move(call));
    if (m_drainers < businessPool.maxThreadCount()) {
        ++m_drainers;
        lock.unlock();
        businessPool.start([this] { drainQueue(); });
    }
}

void ServerCore::drainQueue()
{
    QMutexLocker lock(&m_queueMutex);
    while (!m_queue.empty()) {
        std::shared_ptr<ServerCall> call = std::move(m_queue.front());
        m_queue.pop_front();
        lock.unlock();
        execute(call);
        call.reset();
        lock.relock();
    }
    --m_drainers;
}

void ServerCore::abandon(const std::shared_ptr<ServerCall> &call, const QString &why)
{
    const bool last = call->connection->owed.fetch_sub(1) == 1;
    int expected = ServerCall::Queued;
    if (!call->state.compare_exchange_strong(expected, ServerCall::Running)) {
        callsCancelled.fetch_add(1, std::memory_order_relaxed);
        leaveInFlight();
        return;
    }
    answerError(*call, Failure{RpcError::UnknownService,
                               QStringLiteral("%1: %2").arg(QString::fromLatin1(call->service->info.serviceName), why)},
                last);
}

// ---- execution (business or object thread) ------------------------------------------------

void ServerCore::execute(const std::shared_ptr<ServerCall> &call)
{
    bool last = false;
    if (!begin(call, &last))
        return;
    CallStorage storage(*call->method);
    if (const auto failure = decode(*call, storage.arguments()))
        return answerError(*call, *failure, last);
    // Inside the method from here: unpublish() waits for `running` to drop to 0. Counted first,
    // then checked: an unpublish() either sees the count or this sees `withdrawn`.
    const Service &service = *call->service;
    service.running.fetch_add(1);
    if (service.withdrawn.load()) {
        service.running.fetch_sub(1);
        return answerError(*call, withdrawnFailure(service), last);
    }
    const auto failure = invoke(*call, storage.argv());
    if (!failure && call->method->async)
        return awaitFuture(call, storage.result()); // `running` drops when the future finishes
    service.running.fetch_sub(1);
    if (failure)
        return answerError(*call, *failure, last);
    answer(*call, storage.result(), last);
}

Failure ServerCore::withdrawnFailure(const Service &service)
{
    return Failure{RpcError::UnknownService,
                   QStringLiteral("service %1 is no longer published").arg(QString::fromLatin1(service.info.serviceName))};
}

// Whether the call runs: not cancelled, its deadline not passed, its object still there.
// Settles (and answers, where it must) the calls that do not. *last: no other answer of this
// connection is owed, so this one goes out at once.
bool ServerCore::begin(const std::shared_ptr<ServerCall> &call, bool *last)
{
    *last = call->connection->owed.fetch_sub(1) == 1;
    int expected = ServerCall::Queued;
    if (!call->state.compare_exchange_strong(expected, ServerCall::Running)) {
        callsCancelled.fetch_add(1, std::memory_order_relaxed);
        leaveInFlight();
        return false;
    }
    if (Clock::now() > call->deadline) {
        callsExpired.fetch_add(1, std::memory_order_relaxed);
        answerError(*call, Failure{RpcError::DeadlineExceeded,
                                   QStringLiteral("%1: the caller's deadline passed before the call started")
                                       .arg(QString::fromLatin1(call->method->signature))},
                    *last);
        return false;
    }
    if (!call->service->implementation || call->service->withdrawn.load()) {
        answerError(*call, withdrawnFailure(*call->service), *last);
        return false;
    }
    return true;
}

std::optional<Failure> ServerCore::decode(ServerCall &call, void *const *arguments) const
{
    QByteArray body = std::move(call.body);
    QString error;
    if (!Message::decompressBody(call.compression, body, maxFrameBytes, &error))
        return Failure{RpcError::BadArguments, error};
    const MethodInfo &m = *call.method;
    if (!Marshal::decodeArguments(call.serialization, body, m.parameterTypes.constData(), arguments,
                                  m.parameterTypes.size(), &error, &body))
        return Failure{RpcError::BadArguments, QStringLiteral("%1: %2").arg(QString::fromLatin1(m.signature), error)};
    return std::nullopt;
}

std::optional<Failure> ServerCore::invoke(ServerCall &call, void **argv) const
{
    QObject *impl = call.service->implementation.data();
    const CallContext context(call); // CallContext::current() for the method
    return failureOf(call, [&] { QMetaObject::metacall(impl, QMetaObject::InvokeMetaMethod, call.method->index, argv); });
}

// What an exception thrown by `run` (a method, or the future it returned) answers.
template<typename Run>
std::optional<Failure> ServerCore::failureOf(const ServerCall &call, Run &&run)
{
    try {
        run();
    } catch (const RpcError &e) {
        // A method may answer with a server-side code of its own choosing (e.g. Overloaded).
        const bool own = !RpcError::isClientSide(e.code()) && e.code() != RpcError::Ok;
        return Failure{own ? e.code() : RpcError::ApplicationException, e.message(),
                       own ? e.remoteType() : QStringLiteral("Tomato::RpcError")};
    } catch (const std::exception &e) {
        return Failure{RpcError::ApplicationException, QString::fromUtf8(e.what()), demangle(typeid(e).name())};
    } catch (...) {
        return Failure{RpcError::ApplicationException,
                       QStringLiteral("%1 threw a non-standard exception").arg(signatureOf(call)),
                       QStringLiteral("unknown")};
    }
    return std::nullopt;
}

// ---- asynchronous methods (a QFuture<T> returned) -------------------------------------------
//
// The method returned at once; its future is answered when it finishes, on the thread that
// finishes it, so no business thread waits for it. The caller's cancel and deadline cancel
// the future (its producer sees QFuture::isCanceled() / QPromise::isCanceled()); the first of
// the three to happen settles the call, the others find it settled.

namespace {
// A QFuture<T> holds nothing but its QFutureInterface<T>, whose only base is
// QFutureInterfaceBase: the QFuture<T> the method wrote is read through that base without
// knowing T (what QFuture<void>'s converting constructor does, for a T known at compile time).
static_assert(sizeof(QFuture<QString>) == sizeof(QFutureInterfaceBase)
              && sizeof(QFuture<QList<int>>) == sizeof(QFutureInterfaceBase));

// The address of a finished future's first result, whatever T is: a result reported alone is
// stored as a T, results reported together as a QList<T> (whose first element starts where
// its data does).
struct FirstResult : QtPrivate::ResultIteratorBase
{
    explicit FirstResult(const QtPrivate::ResultIteratorBase &it) : QtPrivate::ResultIteratorBase(it) {}
    const void *address() const
    {
        const QtPrivate::ResultItem &item = mapIterator.value();
        if (!item.isVector())
            return item.result;
        Q_ASSERT(m_vectorIndex == 0);
        return reinterpret_cast<const QList<char> *>(item.result)->constData();
    }
};
} // namespace

void ServerCore::awaitFuture(const std::shared_ptr<ServerCall> &call, const void *futureStorage)
{
    QFutureInterfaceBase future(*static_cast<const QFutureInterfaceBase *>(futureStorage)); // shares its state
    bool cancelled;
    {
        QMutexLocker lock(&call->futureMutex);
        call->future = future;
        cancelled = call->cancelRequested.load();
    }
    if (cancelled) {
        endFuture(call, false);
    } else if (call->deadline != Clock::time_point::max()) {
        QMutexLocker lock(&m_deadlineMutex);
        const bool earliest = m_futureDeadlines.empty() || call->deadline < m_futureDeadlines.begin()->first;
        m_futureDeadlines.emplace(call->deadline, std::make_pair(call.get(), std::weak_ptr<ServerCall>(call)));
        call->deadlineOwner = weak_from_this();
        if (earliest && m_timerContext) {
            QMetaObject::invokeMethod(m_timerContext, [core = weak_from_this()] {
                if (auto c = core.lock())
                    c->armFutureTimer();
            }, Qt::QueuedConnection);
        }
    }
    // Sync: on the thread that finishes the future, at once if it has. A cancelled future skips
    // then() and goes to onCanceled(); one that failed reaches then() with its exception.
    std::weak_ptr<ServerCore> core = weak_from_this();
    QFuture<void>(&future)
        .then(QtFuture::Launch::Sync, [core, call](QFuture<void>) {
            if (auto c = core.lock())
                c->futureFinished(call);
        })
        .onCanceled([core, call] {
            if (auto c = core.lock())
                c->futureFinished(call);
        });
}

void ServerCore::futureFinished(const std::shared_ptr<ServerCall> &call)
{
    QFutureInterfaceBase future;
    {
        QMutexLocker lock(&call->futureMutex);
        future = std::exchange(call->future, std::nullopt).value_or(QFutureInterfaceBase());
    }
    call->service->running.fetch_sub(1); // the method's work is over: unpublish() may go on
    if (call->settled.exchange(true))
        return; // its deadline passed or its caller cancelled: answered or dropped then
    const QString signature = signatureOf(*call);
    if (future.hasException()) {
        const auto failure = failureOf(*call, [&] { future.exceptionStore().throwPossibleException(); });
        return answerError(*call, failure.value_or(Failure{RpcError::Internal, signature + QStringLiteral(": no exception")}), true);
    }
    if (future.isCanceled())
        return answerError(*call, Failure{RpcError::ApplicationException,
                                          QStringLiteral("%1: the future it returned was cancelled").arg(signature),
                                          QStringLiteral("QFuture")}, true);
    if (call->method->returnsVoid())
        return answer(*call, nullptr, true);
    QMutexLocker lock(&future.mutex());
    const QtPrivate::ResultStoreBase &results = future.resultStoreBase();
    if (!results.contains(0)) {
        lock.unlock();
        return answerError(*call, Failure{RpcError::ApplicationException,
                                          QStringLiteral("%1: the future it returned finished without a result").arg(signature),
                                          QStringLiteral("QFuture")}, true);
    }
    const void *result = FirstResult(results.resultAt(0)).address();
    answer(*call, result, true);
}

void ServerCore::endFuture(const std::shared_ptr<ServerCall> &call, bool deadlinePassed)
{
    std::optional<QFutureInterfaceBase> future;
    {
        QMutexLocker lock(&call->futureMutex);
        future = call->future;
    }
    if (!future)
        return; // not an asynchronous call, not yet returned (it will see cancelRequested), or over
    if (!call->settled.exchange(true)) {
        if (deadlinePassed) {
            callsExpired.fetch_add(1, std::memory_order_relaxed);
            answerError(*call, Failure{RpcError::DeadlineExceeded,
                                       QStringLiteral("%1: the caller's deadline passed while its future was pending")
                                           .arg(signatureOf(*call))},
                        true);
        } else {
            callsCancelled.fetch_add(1, std::memory_order_relaxed);
            leaveInFlight();
        }
    }
    future->cancel();
}

void ServerCore::forgetDeadline(ServerCall *call)
{
    QMutexLocker lock(&m_deadlineMutex);
    for (auto [it, end] = m_futureDeadlines.equal_range(call->deadline); it != end; ++it) {
        if (it->second.first == call) {
            m_futureDeadlines.erase(it);
            return;
        }
    }
}

// On m_timerContext's thread.
void ServerCore::armFutureTimer()
{
    if (!m_futureTimer) {
        m_futureTimer = new QTimer(m_timerContext);
        m_futureTimer->setSingleShot(true);
        m_futureTimer->setTimerType(Qt::PreciseTimer);
        QObject::connect(m_futureTimer, &QTimer::timeout, m_timerContext, [core = weak_from_this()] {
            if (auto c = core.lock())
                c->expireFutures();
        });
    }
    QMutexLocker lock(&m_deadlineMutex);
    if (m_futureDeadlines.empty())
        return m_futureTimer->stop();
    const auto wait = m_futureDeadlines.begin()->first - Clock::now();
    const qint64 ms = std::chrono::ceil<std::chrono::milliseconds>(wait).count();
    if (!m_futureTimer->isActive() || m_futureTimer->remainingTime() > ms)
        m_futureTimer->start(int(std::clamp<qint64>(ms, 0, 24 * 3600 * 1000)));
}

void ServerCore::expireFutures()
{
    std::vector<std::shared_ptr<ServerCall>> expired;
    {
        QMutexLocker lock(&m_deadlineMutex);
        const auto now = Clock::now();
        while (!m_futureDeadlines.empty() && m_futureDeadlines.begin()->first <= now) {
            if (auto call = m_futureDeadlines.begin()->second.second.lock()) {
                call->deadlineOwner.reset();
                expired.push_back(std::move(call));
            }
            m_futureDeadlines.erase(m_futureDeadlines.begin());
        }
    } // the calls are let go outside the lock: ~ServerCall takes it
    for (const auto &call : expired)
        endFuture(call, true);
    expired.clear();
    armFutureTimer();
}

void ServerCore::answer(ServerCall &call, const void *result, bool last)
{
    FrameBuilder frame(128); // "code:0" and a small result without growing; a large one grows once
    frame.addEncoded("code:0");
    // The result is encoded straight into the frame (no copy of it later); a large byte array
    // result is not copied at all: it follows the frame's head from its own buffer.
    if (!call.method->returnsVoid())
        Marshal::encodeValue(call.serialization, ValueRef{call.method->returnType, result}, frame.body(),
                             &frame.tail());
    frame.compressBody(call.compression, compressionThreshold);
    QByteArray bytes = frame.finish(Frame::Response, quint8(call.serialization), call.messageId);
    QByteArray tail = frame.takeTail();
    bytesSent.fetch_add(quint64(bytes.size() + tail.size()), std::memory_order_relaxed);
    call.connection->outbox->post(std::move(bytes), std::move(tail),
                                  last ? Outbox::When::WriteNow : Outbox::When::Batch);
    logCall(call, nullptr);
    finishCall(call, RpcError::Ok);
}

// One debug line per answered call: tomato.server.debug=true in QT_LOGGING_RULES.
void ServerCore::logCall(const ServerCall &call, const Failure *failure)
{
    if (!lcServer().isDebugEnabled())
        return;
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - call.arrival).count();
    // One multi-argument arg(): a message with "%1" in it stays as it is.
    qCDebug(lcServer).noquote() << QStringLiteral("call %1 %2.%3 from %4: %5 in %6 ms")
                                       .arg(QString::number(call.messageId),
                                            QString::fromLatin1(call.service ? call.service->info.serviceName : "?"),
                                            QString::fromLatin1(call.method ? call.method->name : "?"),
                                            call.connection->peer,
                                            failure ? RpcError::codeName(failure->code) + QLatin1String(" (")
                                                          + failure->message + QLatin1Char(')')
                                                    : QStringLiteral("ok"),
                                            QString::number(ms, 'f', 3));
}

void ServerCore::answerError(ServerCall &call, const Failure &failure, bool last)
{
    QByteArray bytes = Message::errorResponse(call.messageId, quint8(call.serialization), failure.code,
                                              failure.message, failure.exceptionType);
    bytesSent.fetch_add(quint64(bytes.size()), std::memory_order_relaxed);
    call.connection->outbox->post(std::move(bytes), last ? Outbox::When::WriteNow : Outbox::When::Batch);
    logCall(call, &failure);
    finishCall(call, failure.code);
}

// ---- accounting ----------------------------------------------------------------------------

void ServerCore::finishCall(const ServerCall &call, RpcError::Code code)
{
    (code == RpcError::Ok ? callsSucceeded : callsFailed).fetch_add(1, std::memory_order_relaxed);
    call.service->metricsOf(call.method).record(code, Clock::now() - call.arrival);
    leaveInFlight();
}

void ServerCore::leaveInFlight()
{
    if (callsInFlight.fetch_sub(1) == 1 && shuttingDown.load())
        wakeShutdownWaiter();
}

void ServerCore::connectionClosed()
{
    if (connections.fetch_sub(1) == 1 && shuttingDown.load())
        wakeShutdownWaiter();
}

void ServerCore::wakeShutdownWaiter()
{
    QMutexLocker lock(&m_idleMutex);
    m_idle.wakeAll();
}

bool ServerCore::waitForIdle(QDeadlineTimer deadline)
{
    return waitUntil([this] { return callsInFlight.load() == 0; }, deadline);
}

bool ServerCore::waitForNoConnections(QDeadlineTimer deadline)
{
    return waitUntil([this] { return connections.load() == 0; }, deadline);
}

bool ServerCore::waitUntil(const std::function<bool()> &done, QDeadlineTimer deadline)
{
    // Pump the caller's events too: calls queued to objects on this thread must be able to run.
    while (!done()) {
        if (deadline.hasExpired())
            return false;
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
        QMutexLocker lock(&m_idleMutex);
        if (!done())
            tomatoWait(m_idle, m_idleMutex, QDeadlineTimer(qMin<qint64>(5, deadline.remainingTime())));
    }
    return true;
}

} // namespace Tomato
