// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/core/rpcerror.h>
#include <tomato/core/tomato_export.h>
#include <tomato/core/serialization.h>

#include <QtCore/QFuture>
#include <QtCore/QFutureWatcher>
#include <QtCore/QDateTime>
#include <QtCore/QHash>
#include <QtCore/QList>
#include <QtCore/QMetaMethod>
#include <QtCore/QMap>
#include <QtCore/QPromise>
#include <QtCore/QQueue>
#include <QtCore/QSet>
#include <QtCore/QStack>
#include <QtCore/QString>
#include <QtCore/QSharedDataPointer>
#include <QtCore/QThread>
#include <QtCore/QUuid>
#include <QtCore/QVariant>
#include <chrono>
#include <functional>
#include <initializer_list>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <vector>

namespace Tomato {

class CallOptionsData;
class StubOptionsData;
struct OutgoingCall;
struct SignalTarget;
class SignalSubscription;

// Per-call settings, all optional. A value; setters return *this to chain:
//     stub->echoAsync("hi", Tomato::CallOptions().setTimeout(200ms).setTraceId("abc"));
// A default CallOptions allocates nothing.
class TOMATO_EXPORT CallOptions
{
public:
    CallOptions();
    CallOptions(const CallOptions &other);
    CallOptions &operator=(const CallOptions &other);
    ~CallOptions();

    std::chrono::milliseconds timeout() const; // 0 (default): the stub's timeout
    CallOptions &setTimeout(std::chrono::milliseconds timeout);
    QByteArray traceId() const;                // travels as `trace-id`
    CallOptions &setTraceId(const QByteArray &traceId);
    QHash<QString, QString> context() const;   // travels as `ctx.<key>` extension entries
    CallOptions &setContext(const QHash<QString, QString> &context);
    CallOptions &addContext(const QString &key, const QString &value);
    // The key a consistent-hash load balancer places the call by (calls with equal keys go
    // to the same instance while it is there). Not sent. Empty (default): the encoded first
    // argument.
    QByteArray hashKey() const;
    CallOptions &setHashKey(const QByteArray &key);

private:
    QSharedDataPointer<CallOptionsData> d; // null until something is set
};

// Settings of one stub; defaults come from the client's RpcConfig. A value; setters chain.
class TOMATO_EXPORT StubOptions
{
public:
    StubOptions();
    StubOptions(const StubOptions &other);
    StubOptions &operator=(const StubOptions &other);
    ~StubOptions();

    std::chrono::milliseconds timeout() const; // 0 (default): timeout-ms of the configuration
    StubOptions &setTimeout(std::chrono::milliseconds timeout);
    std::optional<Serialization> serialization() const; // unset: serialization of the configuration
    StubOptions &setSerialization(Serialization serialization);
    // Stubs of one client share one connection per instance. Stubs given different values
    // here get separate connections to the same instance (to spread load over several I/O
    // threads or sockets).
    int connection() const;
    StubOptions &setConnection(int index);

private:
    QSharedDataPointer<StubOptionsData> d; // null until something is set
};

// The completion side of one call. The library fills it from the connection's I/O thread:
// decodes the result into resultStorage(), then succeed(); or fail(). Exactly one of them
// is called, once.
class TOMATO_EXPORT PendingCall
{
public:
    explicit PendingCall(QMetaType resultType) : m_resultType(resultType) {}
    virtual ~PendingCall();
    PendingCall(const PendingCall &) = delete;
    PendingCall &operator=(const PendingCall &) = delete;

    QMetaType resultType() const { return m_resultType; } // invalid for void
    virtual void *resultStorage() = 0;
    virtual void succeed() = 0;
    virtual void fail(const RpcError &error) = 0;
    virtual bool isCanceled() const = 0;
    // A call that takes its result as it travelled (the body, decompressed, still in the
    // call's serialization) rather than decoded into resultStorage(): DynamicStub's calls.
    // setRawResult() then comes just before succeed().
    virtual bool wantsRawResult() const { return false; }
    virtual void setRawResult(QByteArray &&body) { Q_UNUSED(body); }

private:
    QMetaType m_resultType;
};

template<typename T>
class TypedPendingCall : public PendingCall
{
public:
    TypedPendingCall() : PendingCall(QMetaType::fromType<T>()) { m_promise.start(); }
    QFuture<T> future() { return m_promise.future(); }
    void *resultStorage() override { return &m_value; }
    void succeed() override
    {
        m_promise.addResult(std::move(m_value));
        m_promise.finish();
    }
    void fail(const RpcError &error) override
    {
        m_promise.setException(error);
        m_promise.finish();
    }
    bool isCanceled() const override { return m_promise.isCanceled(); }

private:
    T m_value{};
    QPromise<T> m_promise;
};

template<>
class TypedPendingCall<void> final : public PendingCall
{
public:
    TypedPendingCall() : PendingCall(QMetaType()) { m_promise.start(); }
    QFuture<void> future() { return m_promise.future(); }
    void *resultStorage() override { return nullptr; }
    void succeed() override { m_promise.finish(); }
    void fail(const RpcError &error) override
    {
        m_promise.setException(error);
        m_promise.finish();
    }
    bool isCanceled() const override { return m_promise.isCanceled(); }

private:
    QPromise<void> m_promise;
};

// Where a stub sends its calls: one instance (a direct stub) or the instances of a service
// that a registry lists. Made by RpcClient; thread-safe: calls go through it from any thread.
class TOMATO_EXPORT Channel
{
public:
    virtual ~Channel();
    // "tcp://127.0.0.1:4567", "demo-rpc-service (dev/main)": for messages and logs.
    virtual QString describe() const = 0;
    // Client-wide defaults for stubs on this channel.
    virtual std::chrono::milliseconds defaultTimeout() const = 0;
    virtual Serialization defaultSerialization() const = 0;
    // Whether calls need a hash key (a consistent-hash policy places them).
    virtual bool wantsHashKey() const { return false; }

private:
    friend class StubCore;
    friend class DynamicStub;
    // Takes the call; completes it exactly once, now or later, on any thread.
    virtual void send(std::unique_ptr<OutgoingCall> call) = 0;
    // Subscribes to a remote signal on every instance the channel reaches, following them as
    // they come and go (docs/SIGNALS.md); null when the channel carries no signals.
    virtual std::unique_ptr<SignalSubscription> subscribe(const SignalTarget &target);
};

// What a stub says about its remote-signal subscriptions (docs/SIGNALS.md), per instance it
// subscribed on. Owned by the stub's StubCore (stub->stubCore().signalStatus()); its signals
// are emitted on the stub's thread, in order with the stub's own remote signals.
class TOMATO_EXPORT RemoteSignalStatus : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;

Q_SIGNALS:
    // The instance confirmed the subscription to `signal`.
    void subscribed(const QString &instance, const QString &signal);
    // The subscription was made again after the connection to the instance was lost (the
    // server restarted, the network broke): events emitted meanwhile were not delivered.
    void eventsMayHaveBeenMissed(const QString &instance, const QString &signal);
    // The instance refused the subscription (unknown signal, permission) or ended it: the stub
    // fell behind (216 ResourceExhausted) or the service was unpublished (200). No more events
    // of `signal` come from there until its last receiver disconnects and one connects again.
    void subscriptionEnded(const QString &instance, const QString &signal, int code, const QString &message);
};

// The engine of a generated stub: resolves the interface's methods once (refusing types that
// cannot be marshalled), encodes calls and hands them to the channel. Owned by its stub;
// call() may be used from any thread at once, the setters only before calls start.
class TOMATO_EXPORT StubCore
{
public:
    // `methods` lists the interface's method names in the order the generated stub uses as
    // slots. Throws RpcError(BadArguments) naming the method and type when one cannot be used.
    StubCore(std::shared_ptr<Channel> channel, const QMetaObject &interface,
             std::initializer_list<const char *> methods, const StubOptions &options = {});
    ~StubCore();
    StubCore(const StubCore &) = delete;
    StubCore &operator=(const StubCore &) = delete;

    template<typename R, typename... A>
    QFuture<R> call(int slot, const CallOptions &options, const A &...args) const
    {
        auto pending = std::make_unique<TypedPendingCall<R>>();
        QFuture<R> future = pending->future();
        const void *argv[] = {static_cast<const void *>(std::addressof(args))..., nullptr};
        send(slot, options, argv, int(sizeof...(A)), std::move(pending));
        return future;
    }

    void setTimeout(std::chrono::milliseconds timeout);
    std::chrono::milliseconds timeout() const;
    void setSerialization(Serialization serialization);
    Serialization serialization() const;
    Channel &channel() const;

    // Remote signals (docs/SIGNALS.md). The generated stub's connectNotify() and
    // disconnectNotify() call this with itself and whether a signal has receivers: soon after, on the
    // stub's thread (its event loop), a signal of the interface that has a receiver is
    // subscribed to, one that has none no longer is. Events are emitted as the stub's own
    // signal, on the stub's thread. Any thread.
    void updateSubscriptions(QObject *stub, const std::function<bool(const QMetaMethod &)> &isConnected);
    RemoteSignalStatus *signalStatus() const;

private:
    void send(int slot, const CallOptions &options, const void *const *argv, int argc,
              std::unique_ptr<PendingCall> pending) const;
    void applySubscriptions(const std::function<bool(const QMetaMethod &)> &isConnected);
    std::unique_ptr<class StubCorePrivate> d;
};

// Maps an interface to its generated stub class; the generated header specialises it.
template<class Interface>
struct StubFor;

namespace detail {
template<typename M>
struct MemberFn;
template<typename C, typename R, typename... A>
struct MemberFn<R (C::*)(A...)>
{
    using Return = R;
    using Args = std::tuple<A...>;
    static constexpr bool isConst = false;
};
template<typename C, typename R, typename... A>
struct MemberFn<R (C::*)(A...) const>
{
    using Return = R;
    using Args = std::tuple<A...>;
    static constexpr bool isConst = true;
};
template<typename M>
using ReturnOf = typename MemberFn<M>::Return;
template<typename M, std::size_t I>
using ArgOf = std::tuple_element_t<I, typename MemberFn<M>::Args>;
// What a call of the method brings back: its return type, or T for a method declared to
// return QFuture<T> (an asynchronous method, docs/ASYNC.md: the server answers when that
// future finishes, and the caller sees T).
template<typename R>
struct Unfuture
{
    using Type = R;
    static constexpr bool isFuture = false;
};
template<typename T>
struct Unfuture<QFuture<T>>
{
    using Type = T;
    static constexpr bool isFuture = true;
};
template<typename M>
using ResultOf = typename Unfuture<std::decay_t<ReturnOf<M>>>::Type;
template<typename M>
using FutureOf = QFuture<ResultOf<M>>;

template<typename T, typename = void>
struct IsGadget : std::false_type
{};
// Q_GADGET declares QtGadgetHelper and qt_check_for_QGADGET_macro in the class itself; a class
// that merely derives from a gadget has no metaobject of its own and is not one.
template<typename T>
struct IsGadget<T, std::void_t<typename T::QtGadgetHelper>>
    : std::bool_constant<std::is_same_v<decltype(&T::qt_check_for_QGADGET_macro), void (T::*)()>>
{};

// Q_ENUM and Q_ENUM_NS declare qt_getEnumMetaObject(Enum) beside the enum (found by ADL):
// only such enums travel, by name or value.
template<typename T, typename = void>
struct IsQEnum : std::false_type
{};
template<typename T>
struct IsQEnum<T, std::void_t<decltype(qt_getEnumMetaObject(std::declval<T>()))>> : std::true_type
{};

} // namespace detail

// Whether values of T can be parameters and results of remote methods: what
// docs/SERIALIZATION.md lists (numbers, bool, Q_ENUM enums, QString, QByteArray, QDateTime, QUuid,
// QVariant, Q_GADGETs, and lists and QString-keyed maps of these). The generated stubs check
// every parameter and result with it at compile time. Specialise it to std::true_type for a
// container type you registered with Q_DECLARE_SEQUENTIAL_CONTAINER_METATYPE or
// Q_DECLARE_ASSOCIATIVE_CONTAINER_METATYPE.
template<typename T, typename = void>
struct IsRemoteType
    : std::bool_constant<std::is_void_v<T> || std::is_same_v<T, std::nullptr_t> || detail::IsQEnum<T>::value
                         || (std::is_arithmetic_v<T> && !std::is_same_v<T, long double>)
                         || std::is_same_v<T, QString> || std::is_same_v<T, QByteArray>
                         || std::is_same_v<T, QDateTime> || std::is_same_v<T, QUuid>
                         || std::is_same_v<T, QVariant> || detail::IsGadget<T>::value>
{};
template<typename T>
struct IsRemoteType<QList<T>> : IsRemoteType<T>
{};
template<typename T>
struct IsRemoteType<QSet<T>> : IsRemoteType<T>
{};
template<typename T>
struct IsRemoteType<QQueue<T>> : IsRemoteType<T>
{};
template<typename T>
struct IsRemoteType<QStack<T>> : IsRemoteType<T>
{};
template<typename T>
struct IsRemoteType<std::vector<T>> : IsRemoteType<T>
{};
template<typename T>
struct IsRemoteType<std::list<T>> : IsRemoteType<T>
{};
template<typename V>
struct IsRemoteType<QMap<QString, V>> : IsRemoteType<V>
{};
template<typename V>
struct IsRemoteType<QHash<QString, V>> : IsRemoteType<V>
{};
template<typename V>
struct IsRemoteType<std::map<QString, V>> : IsRemoteType<V>
{};

// Waits for the future of a call and returns its value (nothing for void), or throws: the
// call's RpcError when it failed, RpcError(Cancelled) when the future was cancelled. The
// blocking stub methods are this around their ...Async form.
//
// Prefer it to QFuture::result() whenever a future may have been cancelled: Qt 6.4 stores
// neither a value nor an error in a future its holder cancelled, and result() on such a
// future is undefined (it crashes). Every future the library completes, and that its holder
// did not cancel, carries a value or an RpcError; the library never cancels one by itself.
template<typename T>
T waitFor(QFuture<T> future)
{
    future.waitForFinished(); // rethrows the call's RpcError
    if (future.isCanceled())
        throw RpcError(RpcError::Cancelled, QStringLiteral("the call was cancelled"));
    if constexpr (std::is_void_v<T>)
        return;
    else
        return future.result();
}

namespace detail {
// The body of a stub's override of an interface method: waits for the call's result, or, for a
// method declared to return QFuture<T>, hands the call's future back as it is.
template<typename R, typename T>
R complete(QFuture<T> future)
{
    if constexpr (Unfuture<std::decay_t<R>>::isFuture)
        return future;
    else
        return waitFor(std::move(future));
}
} // namespace detail

// Calls `f(future)` on `context`'s thread (through its event loop) once the future of a call
// has finished: with its value, its RpcError, or cancelled (read it with waitFor(), which
// does not block then). Nothing runs if `context` is destroyed first.
//
// Use it instead of QFuture::then() when the call may finish on another thread while the
// continuation is being attached: Qt 6.4's then() can then run the continuation twice (a
// crash with QtFuture::Launch::Sync; the user's function twice with a context object). It is
// rare, about once in millions of calls, but real (docs/STUBS.md#continuations-and-qt-64).
// A QFutureWatcher, which this uses, has no such race.
template<typename T, typename F>
void whenFinished(const QFuture<T> &future, QObject *context, F &&f)
{
    auto *watcher = new QFutureWatcher<T>(context);
    QObject::connect(watcher, &QFutureWatcherBase::finished, context,
                     [watcher, f = std::forward<F>(f)]() mutable {
                         watcher->deleteLater();
                         f(watcher->future());
                     });
    watcher->setFuture(future);
}

} // namespace Tomato
