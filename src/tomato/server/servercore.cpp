#include <tomato/server/servercore_p.h>

#include <tomato/compression/codec.h>
#include <tomato/core/logging_p.h>
#include <tomato/serialization/marshal.h>
#include <tomato/transport/outbox_p.h>
#include <tomato/wire/extension.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QElapsedTimer>
#include <QtCore/QThread>
#include <QtCore/QVarLengthArray>

#include <cxxabi.h>
#include <typeinfo>

namespace Tomato {

namespace {

QString demangle(const char *name)
{
    int status = 0;
    char *d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
    QString s = QString::fromLatin1(status == 0 && d ? d : name);
    std::free(d);
    return s;
}

// Destroys the objects created for one call's arguments and result, whatever happens.
class CallStorage
{
public:
    explicit CallStorage(const MethodInfo &m)
        : m_method(m)
    {
        m_argv.resize(m.parameterTypes.size() + 1);
        m_argv[0] = m.returnsVoid() ? nullptr : m.returnType.create();
        for (qsizetype i = 0; i < m.parameterTypes.size(); ++i)
            m_argv[i + 1] = m.parameterTypes.at(i).create();
    }
    ~CallStorage()
    {
        if (m_argv[0])
            m_method.returnType.destroy(m_argv[0]);
        for (qsizetype i = 0; i < m_method.parameterTypes.size(); ++i)
            m_method.parameterTypes.at(i).destroy(m_argv[i + 1]);
    }
    CallStorage(const CallStorage &) = delete;
    CallStorage &operator=(const CallStorage &) = delete;
    void **argv() { return m_argv.data(); }
    void *const *arguments() { return m_argv.data() + 1; }

private:
    const MethodInfo &m_method;
    QVarLengthArray<void *, 8> m_argv;
};

} // namespace

ServerCore::ServerCore(const RpcConfig &cfg)
    : config(cfg),
      maxFrameBytes(cfg.maxFrameBytes()),
      compressionThreshold(cfg.compressionThresholdBytes())
{
    businessPool.setMaxThreadCount(cfg.businessThreads());
    businessPool.setObjectName(QStringLiteral("tomato-business"));
}

ServerCore::~ServerCore()
{
    businessPool.waitForDone();
}

void ServerCore::addService(std::shared_ptr<const Service> service)
{
    QWriteLocker lock(&m_servicesLock);
    m_services.insert(service->info.serviceName, std::move(service));
}

void ServerCore::removeService(const QByteArray &name)
{
    QWriteLocker lock(&m_servicesLock);
    m_services.remove(name);
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

QStringList ServerCore::signatures() const
{
    QReadLocker lock(&m_servicesLock);
    QStringList out;
    for (const auto &service : m_services) {
        for (const MethodInfo &m : service->info.methods)
            out << QString::fromLatin1(service->info.serviceName + "::" + m.signature);
    }
    return out;
}

void ServerCore::dispatch(std::shared_ptr<ServerCall> call)
{
    QObject *impl = call->service->implementation.data();
    if (impl && call->service->options.dispatch == PublishOptions::Dispatch::ObjectThread) {
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
    call->owed->fetch_sub(1);
    int expected = ServerCall::Queued;
    if (!call->state.compare_exchange_strong(expected, ServerCall::Running)) {
        callsCancelled.fetch_add(1, std::memory_order_relaxed);
        leaveInFlight();
        return;
    }
    respondError(*call->outbox, call->messageId, call->serialization, RpcError::UnknownService,
                 QStringLiteral("%1: %2").arg(QString::fromLatin1(call->service->info.serviceName), why));
    finishCall(false);
}

void ServerCore::respondError(Outbox &outbox, quint64 id, quint8 serialization, RpcError::Code code,
                              const QString &message, const QString &exceptionType, bool writeNow)
{
    Extension ext;
    ext.insert(ExtensionKey::Code, QByteArray::number(int(code)));
    ext.insert(ExtensionKey::Message, message);
    if (!exceptionType.isEmpty())
        ext.insert(ExtensionKey::ExceptionType, exceptionType);
    QByteArray out;
    Frame::encode(out, Frame::Response, serialization, id, ext.encode(), {});
    outbox.post(std::move(out), writeNow ? Outbox::When::WriteNow : Outbox::When::Batch);
}

void ServerCore::finishCall(bool ok)
{
    (ok ? callsSucceeded : callsFailed).fetch_add(1, std::memory_order_relaxed);
    leaveInFlight();
}

void ServerCore::leaveInFlight()
{
    if (callsInFlight.fetch_sub(1) == 1 && shuttingDown.load()) {
        QMutexLocker lock(&m_idleMutex);
        m_idle.wakeAll();
    }
}

bool ServerCore::waitForIdle(std::chrono::milliseconds timeout)
{
    QElapsedTimer timer;
    timer.start();
    // Pump the caller's events too: calls queued to objects on this thread must be able to run.
    while (callsInFlight.load() > 0) {
        if (timer.elapsed() >= timeout.count())
            return false;
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
        QMutexLocker lock(&m_idleMutex);
        if (callsInFlight.load() > 0)
            m_idle.wait(&m_idleMutex, 5);
    }
    return true;
}

void ServerCore::execute(const std::shared_ptr<ServerCall> &call)
{
    Outbox &outbox = *call->outbox;
    // The answer is written at once when it is the last this connection owes.
    const bool last = call->owed->fetch_sub(1) == 1;
    const auto when = last ? Outbox::When::WriteNow : Outbox::When::Batch;
    int expected = ServerCall::Queued;
    if (!call->state.compare_exchange_strong(expected, ServerCall::Running)) {
        callsCancelled.fetch_add(1, std::memory_order_relaxed);
        leaveInFlight();
        return;
    }
    const MethodInfo &method = *call->method;
    auto fail = [&](RpcError::Code code, const QString &message, const QString &type = {}) {
        respondError(outbox, call->messageId, call->serialization, code, message, type, last);
        finishCall(false);
    };
    if (std::chrono::steady_clock::now() > call->deadline) {
        callsExpired.fetch_add(1, std::memory_order_relaxed);
        fail(RpcError::DeadlineExceeded,
             QStringLiteral("%1: the caller's deadline passed before the call started")
                 .arg(QString::fromLatin1(method.signature)));
        return;
    }
    QObject *impl = call->service->implementation.data();
    if (!impl) {
        fail(RpcError::UnknownService, QStringLiteral("service %1 is no longer published")
                                           .arg(QString::fromLatin1(call->service->info.serviceName)));
        return;
    }

    QByteArray body = std::move(call->body);
    if (!call->compression.isEmpty()) {
        Compression::Kind kind;
        QByteArray plain;
        QString error;
        if (!Compression::fromName(call->compression, &kind)) {
            fail(RpcError::UnsupportedCompression,
                 QStringLiteral("compression '%1' is not supported (gzip, zstd)")
                     .arg(QString::fromUtf8(call->compression)));
            return;
        }
        if (!Compression::decompress(kind, body, maxFrameBytes, &plain, &error)) {
            fail(RpcError::BadArguments, error);
            return;
        }
        body = std::move(plain);
    }

    const auto serialization = Serialization(call->serialization);
    CallStorage storage(method);
    QString error;
    if (!Marshal::decodeArguments(serialization, body, method.parameterTypes.constData(),
                                  storage.arguments(), method.parameterTypes.size(), &error)) {
        fail(RpcError::BadArguments, QStringLiteral("%1: %2").arg(QString::fromLatin1(method.signature), error));
        return;
    }

    try {
        QMetaObject::metacall(impl, QMetaObject::InvokeMetaMethod, method.index, storage.argv());
    } catch (const RpcError &e) {
        // A method may answer with a server-side code of its own choosing (e.g. Overloaded).
        const bool own = !RpcError::isClientSide(e.code()) && e.code() != RpcError::Ok;
        fail(own ? e.code() : RpcError::ApplicationException, e.message(),
             own ? e.remoteType() : QStringLiteral("Tomato::RpcError"));
        return;
    } catch (const std::exception &e) {
        fail(RpcError::ApplicationException, QString::fromUtf8(e.what()), demangle(typeid(e).name()));
        return;
    } catch (...) {
        fail(RpcError::ApplicationException, QStringLiteral("a non-standard exception was thrown"),
             QStringLiteral("unknown"));
        return;
    }

    // Header placeholder, extension, then the result encoded in place (no copy of it later).
    QByteArray out(Frame::HeaderSize, Qt::Uninitialized);
    out += "code:0";
    qsizetype extensionSize = out.size() - Frame::HeaderSize;
    if (!method.returnsVoid())
        Marshal::encodeValue(serialization, ValueRef{method.returnType, storage.argv()[0]}, out);
    const qsizetype resultSize = out.size() - Frame::HeaderSize - extensionSize;
    if (!call->compression.isEmpty() && resultSize >= compressionThreshold) {
        Compression::Kind kind;
        Compression::fromName(call->compression, &kind);
        const QByteArray packed = Compression::compress(
            kind, QByteArrayView(out).sliced(Frame::HeaderSize + extensionSize));
        out.truncate(Frame::HeaderSize + extensionSize);
        out += "&compression:" + call->compression;
        extensionSize = out.size() - Frame::HeaderSize;
        out += packed;
    }
    Frame::writeHeader(reinterpret_cast<uchar *>(out.data()), Frame::Response, call->serialization,
                       call->messageId, quint32(extensionSize),
                       quint32(out.size() - Frame::HeaderSize - extensionSize));
    outbox.post(std::move(out), when);
    finishCall(true);
}

} // namespace Tomato
