// SPDX-License-Identifier: Apache-2.0
#include <tomato/client/channels_p.h>

#include <tomato/client/policy/circuitbreaker_p.h>

#include <QtCore/QVarLengthArray>

#include <algorithm>

namespace Tomato {

using Clock = std::chrono::steady_clock;

// ---- ClusterState ------------------------------------------------------------------------

namespace {
QSet<QByteArray> idempotentOf(const RpcConfig &config, const QString &microServiceId)
{
    QSet<QByteArray> out;
    for (const QString &m : config.idempotentMethods().value(microServiceId))
        out.insert(m.toUtf8());
    return out;
}
} // namespace

ClusterState::ClusterState(QString id, QString w, std::unique_ptr<LoadBalancer> balancer, const RpcConfig &config)
    : microServiceId(std::move(id)),
      where(std::move(w)),
      m_invokers(std::make_shared<const Invokers>()),
      m_balancer(std::move(balancer)),
      m_failover(config.cluster() == QLatin1String("failover")),
      m_modes(config.clusterByMethod()),
      m_retries(config.retries()),
      m_idempotent(idempotentOf(config, microServiceId))
{
}

std::shared_ptr<const ClusterState::Invokers> ClusterState::invokers() const
{
    QMutexLocker lock(&m_mutex);
    return m_invokers;
}

void ClusterState::setInvokers(std::shared_ptr<const Invokers> invokers)
{
    QMutexLocker lock(&m_mutex);
    for (const auto &invoker : *invokers)
        invoker->setOverride(m_overrides.value(invoker->key()));
    m_invokers = std::move(invokers);
    for (auto &entry : m_subscriptions)
        placeSubscriptionLocked(entry.second);
}

// Subscribes on the instances listed now that do not have it yet, and withdraws it from those
// no longer listed.
// (An entry is dropped in the same update that drops its invoker, so a later invoker at the
// same address in memory is never taken for it.)
void ClusterState::placeSubscriptionLocked(ClusterSubscription &subscription)
{
    auto &placed = subscription.placed;
    for (auto it = placed.begin(); it != placed.end();) {
        const bool listed = std::any_of(m_invokers->cbegin(), m_invokers->cend(),
                                        [&](const auto &invoker) { return invoker.get() == it->invoker; });
        if (listed) {
            ++it;
            continue;
        }
        if (auto session = it->session.lock())
            session->unsubscribe(it->id);
        it = placed.erase(it);
    }
    for (const auto &invoker : *m_invokers) {
        if (std::any_of(placed.cbegin(), placed.cend(), [&](const auto &p) { return p.invoker == invoker.get(); }))
            continue;
        const auto &session = invoker->signalSession();
        placed.push_back({invoker.get(), session, session->subscribe(subscription.target)});
    }
}

quint64 ClusterState::subscribe(SignalTarget target)
{
    QMutexLocker lock(&m_mutex);
    const quint64 id = m_nextSubscription++;
    auto &subscription = m_subscriptions[id];
    subscription.target = std::move(target);
    placeSubscriptionLocked(subscription);
    return id;
}

void ClusterState::unsubscribe(quint64 id)
{
    QMutexLocker lock(&m_mutex);
    const auto it = m_subscriptions.find(id);
    if (it == m_subscriptions.end())
        return;
    for (const auto &placed : it->second.placed) {
        if (auto session = placed.session.lock())
            session->unsubscribe(placed.id);
    }
    m_subscriptions.erase(it);
}

InstanceOverrides ClusterState::overrides() const
{
    QMutexLocker lock(&m_mutex);
    return m_overrides;
}

void ClusterState::setOverrides(const InstanceOverrides &overrides)
{
    QMutexLocker lock(&m_mutex);
    m_overrides = overrides;
    for (const auto &invoker : *m_invokers)
        invoker->setOverride(m_overrides.value(invoker->key()));
}

// cluster-by-method: "service.method" before "service" before `cluster`. Resolved once per
// method.
bool ClusterState::failoverFor(const QByteArray &method) const
{
    if (m_modes.isEmpty())
        return m_failover; // the usual case: no lock on the way of every call
    QMutexLocker lock(&m_mutex);
    if (const auto it = m_failoverByMethod.constFind(method); it != m_failoverByMethod.cend())
        return *it;
    QString mode = m_modes.value(microServiceId + QLatin1Char('.') + QString::fromUtf8(method));
    if (mode.isEmpty())
        mode = m_modes.value(microServiceId);
    const bool failover = mode.isEmpty() ? m_failover : mode == QLatin1String("failover");
    m_failoverByMethod.insert(method, failover);
    return failover;
}

bool ClusterState::isIdempotent(const OutgoingCall &call) const
{
    return call.idempotent || m_idempotent.contains(call.method);
}

void ClusterState::placeCall(const std::shared_ptr<ClusterState> &state, std::unique_ptr<OutgoingCall> call)
{
    std::shared_ptr<Attempt> attempt;
    if (state->m_retries > 0 && state->failoverFor(call->method)) {
        attempt = std::make_shared<Attempt>();
        attempt->deadline = call->deadline;
    }
    place(state, std::move(call), std::move(attempt));
}

RpcError ClusterState::noneUsable(const Invokers &all, const Attempt &attempt) const
{
    if (all.empty())
        return RpcError(RpcError::NoProvider, QStringLiteral("no provider of %1 in %2 is known").arg(microServiceId, where));
    QStringList states;
    bool allOpen = true;
    for (const auto &invoker : all) {
        const InvokerStats s = invoker->stats();
        const bool tried = attempt.tried.contains(invoker->key());
        states << invoker->key() + QLatin1Char(' ') + (tried ? QStringLiteral("tried") : s.state);
        allOpen = allOpen && !tried && (s.state == QLatin1String("open") || s.state == QLatin1String("half-open"));
    }
    return RpcError(allOpen ? RpcError::CircuitOpen : RpcError::NoProvider,
                    QStringLiteral("no usable provider of %1 in %2: %3")
                        .arg(microServiceId, where, states.join(QLatin1String(", "))));
}

// One attempt: pick, send, and on failure decide about the next.
void ClusterState::place(const std::shared_ptr<ClusterState> &state, std::unique_ptr<OutgoingCall> call,
                         std::shared_ptr<Attempt> attempt)
{
    const std::shared_ptr<const Invokers> all = state->invokers();
    static const Attempt firstAttempt;
    const Attempt &a = attempt ? *attempt : firstAttempt;
    thread_local QList<Candidate *> candidates;
    std::shared_ptr<Invoker> chosen;
    std::shared_ptr<ClientSession> session;
    // Instances not tried yet first; when every usable one has been tried, any usable one
    // (as Dubbo does): the retries and the deadline still bound the attempts.
    for (const bool untriedOnly : {true, false}) {
        if (!untriedOnly && a.tried.isEmpty())
            break;
        for (;;) {
            candidates.resize(0);
            for (const auto &invoker : *all) {
                if (invoker->isUsable() && !(untriedOnly && a.tried.contains(invoker->key())))
                    candidates.append(invoker.get());
            }
            if (candidates.isEmpty())
                break;
            Candidate *pick = candidates.at(state->m_balancer->select(candidates, CallInfo{call->hashKey}));
            for (const auto &invoker : *all) {
                if (invoker.get() == pick)
                    chosen = invoker;
            }
            session = chosen->begin();
            if (session)
                break;
            chosen.reset(); // its circuit opened on us in between: choose again
            if (candidates.size() == 1)
                break;
        }
        if (session)
            break;
    }
    if (!session) {
        // A retry with nowhere left to go reports what the last attempt met.
        const RpcError none = a.lastError ? *a.lastError : state->noneUsable(*all, a);
        return finishCall(*call, QStringLiteral("%1 (%2)").arg(state->microServiceId, state->where), &none);
    }

    const auto started = Clock::now();
    std::optional<FrameBuilder> copy; // the request again, for the next attempt
    if (attempt && attempt->number <= state->m_retries) {
        copy = call->frame;
        // An attempt that may time out and be retried gets its share of the time left, so
        // that a frozen instance leaves time for another; the last gets all that is left.
        if (state->isIdempotent(*call)) {
            const int left = state->m_retries - attempt->number + 1;
            call->deadline = started + (attempt->deadline - started) / (left + 1);
        }
    }
    std::weak_ptr<ClusterState> weakState = state;
    call->onFinish = [weakState, chosen, attempt, copy = std::move(copy), started](OutgoingCall &c,
                                                                                  const RpcError *error) mutable {
        const auto latency = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started);
        // An attempt given only a share of the deadline that runs out is no verdict on a slow
        // but healthy instance (heartbeats find a dead one); a call never posted is none at all.
        const bool cutShort = error && error->code() == RpcError::Timeout && attempt && c.deadline < attempt->deadline;
        chosen->ended(error, latency,
                      !c.posted ? Invoker::Judge::NotSent : cutShort ? Invoker::Judge::Neutral : Invoker::Judge::Yes);
        const auto cluster = weakState.lock();
        if (!cluster)
            return false;
        cluster->m_balancer->feedback(*chosen,
                                    !error ? Outcome::Success
                                    : CircuitBreaker::countsAgainstInstance(error->code()) ? Outcome::InstanceFailure
                                                                                          : Outcome::ApplicationError,
                                    latency);
        if (!error || !attempt || !copy || c.pending->isCanceled()
            || !RetryDecision::mayRetry(error->code(), cluster->isIdempotent(c), attempt->number, cluster->m_retries,
                                        attempt->deadline, Clock::now()))
            return false;
        auto next = std::make_unique<OutgoingCall>();
        next->serialization = c.serialization;
        next->frame = std::move(*copy);
        next->deadline = attempt->deadline;
        next->pending = std::move(c.pending);
        next->method = c.method;
        next->idempotent = c.idempotent;
        next->hashKey = c.hashKey;
        next->label = c.label;
        next->sentAt = c.sentAt;
        attempt->tried.insert(chosen->key());
        attempt->lastError = *error;
        ++attempt->number;
        place(cluster, std::move(next), attempt);
        return true;
    };
    session->send(std::move(call));
}

// ---- channels ----------------------------------------------------------------------------

ConfiguredChannel::ConfiguredChannel(const RpcConfig &config)
    : m_timeout(config.timeoutMs()), m_serialization(config.serialization())
{
}

DirectChannel::DirectChannel(std::shared_ptr<ClientSession> session, const RpcConfig &config)
    : ConfiguredChannel(config), m_session(std::move(session))
{
}

QString DirectChannel::describe() const
{
    return m_session->where;
}

void DirectChannel::send(std::unique_ptr<OutgoingCall> call)
{
    m_session->send(std::move(call));
}

namespace {
// Withdraws one subscription when the stub lets go of it.
template<class Owner>
class ChannelSubscription final : public SignalSubscription
{
public:
    ChannelSubscription(std::weak_ptr<Owner> owner, quint64 id) : m_owner(std::move(owner)), m_id(id) {}
    ~ChannelSubscription() override
    {
        if (auto owner = m_owner.lock())
            owner->unsubscribe(m_id);
    }

private:
    std::weak_ptr<Owner> m_owner;
    quint64 m_id;
};
} // namespace

std::unique_ptr<SignalSubscription> DirectChannel::subscribe(const SignalTarget &target)
{
    return std::make_unique<ChannelSubscription<ClientSession>>(m_session, m_session->subscribe(target));
}

ClusterChannel::ClusterChannel(std::shared_ptr<ClusterState> state, const RpcConfig &config)
    : ConfiguredChannel(config), m_state(std::move(state)),
      m_wantsHashKey(m_state->balancer().name() == QLatin1String("consistent-hash"))
{
}

QString ClusterChannel::describe() const
{
    return QStringLiteral("%1 (%2)").arg(m_state->microServiceId, m_state->where);
}

void ClusterChannel::send(std::unique_ptr<OutgoingCall> call)
{
    ClusterState::placeCall(m_state, std::move(call));
}

std::unique_ptr<SignalSubscription> ClusterChannel::subscribe(const SignalTarget &target)
{
    return std::make_unique<ChannelSubscription<ClusterState>>(m_state, m_state->subscribe(target));
}

} // namespace Tomato
