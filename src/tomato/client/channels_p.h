// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/client/clientsession_p.h>
#include <tomato/client/invoker_p.h>
#include <tomato/client/remotesignal_p.h>
#include <tomato/client/policy/loadbalancer_p.h>
#include <tomato/client/stub.h>
#include <tomato/core/rpcconfig.h>
#include <tomato/registry/registry.h>

#include <QtCore/QHash>
#include <QtCore/QMutex>
#include <QtCore/QSet>
#include <memory>
#include <optional>
#include <vector>

namespace Tomato {

// One service of a cluster client (docs/CLUSTER.md): its invokers, replaced as a whole when
// the registry reports a change; the live overrides; the load balancer; and the fault-tolerance
// rules of its methods. Calls are placed from any thread: placeCall() reads a snapshot of the
// invokers, so a registry update never waits for calls, nor calls for it.
class ClusterState
{
public:
    ClusterState(QString microServiceId, QString where, std::unique_ptr<LoadBalancer> balancer,
                 const RpcConfig &config);

    const QString microServiceId;
    const QString where; // "stage/group", for errors

    using Invokers = std::vector<std::shared_ptr<Invoker>>;
    std::shared_ptr<const Invokers> invokers() const;
    void setInvokers(std::shared_ptr<const Invokers> invokers);
    InstanceOverrides overrides() const;
    void setOverrides(const InstanceOverrides &overrides); // applied to the invokers at once
    const LoadBalancer &balancer() const { return *m_balancer; }

    // Sends the call to an instance the balancer picks among the usable ones not tried yet,
    // retrying other instances when the rules allow (failover); fails it at once with
    // NoProvider or CircuitOpen when there is none.
    static void placeCall(const std::shared_ptr<ClusterState> &state, std::unique_ptr<OutgoingCall> call);

    // Remote signals: a subscription on every listed instance, made on the instances that
    // join later and withdrawn from those that leave (docs/SIGNALS.md). Any thread.
    quint64 subscribe(SignalTarget target);
    void unsubscribe(quint64 id);

private:
    struct Attempt
    {
        int number = 1; // 1 for the first
        std::chrono::steady_clock::time_point deadline; // the caller's, for all attempts
        QSet<QString> tried;
        std::optional<RpcError> lastError; // of the attempt before this one
    };
    bool failoverFor(const QByteArray &method) const;
    bool isIdempotent(const OutgoingCall &call) const;
    static void place(const std::shared_ptr<ClusterState> &state, std::unique_ptr<OutgoingCall> call,
                      std::shared_ptr<Attempt> attempt);
    RpcError noneUsable(const Invokers &all, const Attempt &attempt) const;

    mutable QMutex m_mutex;
    std::shared_ptr<const Invokers> m_invokers;
    InstanceOverrides m_overrides;
    std::unique_ptr<LoadBalancer> m_balancer;
    const bool m_failover;                  // cluster=failover for the service
    const QHash<QString, QString> m_modes;  // cluster-by-method
    const int m_retries;
    const QSet<QByteArray> m_idempotent;    // idempotent-methods for the service
    mutable QHash<QByteArray, bool> m_failoverByMethod; // resolved modes, under m_mutex
    struct ClusterSubscription
    {
        SignalTarget target;
        // Per invoker, by identity, not by key: an instance restarted at the same address is a
        // new invoker with new connections, and needs the subscription anew.
        struct Placed
        {
            const Invoker *invoker;
            std::weak_ptr<ClientSession> session;
            quint64 id;
        };
        std::vector<Placed> placed;
    };
    void placeSubscriptionLocked(ClusterSubscription &subscription);
    std::map<quint64, ClusterSubscription> m_subscriptions; // under m_mutex
    quint64 m_nextSubscription = 1;
};

// Client-wide defaults every channel reports to its stubs.
class ConfiguredChannel : public Channel
{
public:
    explicit ConfiguredChannel(const RpcConfig &config);
    std::chrono::milliseconds defaultTimeout() const override { return m_timeout; }
    Serialization defaultSerialization() const override { return m_serialization; }

private:
    std::chrono::milliseconds m_timeout;
    Serialization m_serialization;
};

// A channel to one instance over its shared connection.
class DirectChannel final : public ConfiguredChannel
{
public:
    DirectChannel(std::shared_ptr<ClientSession> session, const RpcConfig &config);
    QString describe() const override;

private:
    void send(std::unique_ptr<OutgoingCall> call) override;
    std::unique_ptr<SignalSubscription> subscribe(const SignalTarget &target) override;
    std::shared_ptr<ClientSession> m_session;
};

// A channel to the instances of a service that the registry lists for the client's stage
// and group (ClusterState).
class ClusterChannel final : public ConfiguredChannel
{
public:
    ClusterChannel(std::shared_ptr<ClusterState> state, const RpcConfig &config);
    QString describe() const override;
    bool wantsHashKey() const override { return m_wantsHashKey; }

private:
    void send(std::unique_ptr<OutgoingCall> call) override;
    std::unique_ptr<SignalSubscription> subscribe(const SignalTarget &target) override;
    std::shared_ptr<ClusterState> m_state;
    bool m_wantsHashKey;
};

} // namespace Tomato
