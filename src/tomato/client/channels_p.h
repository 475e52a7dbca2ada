#pragma once
#include <tomato/client/clientsession_p.h>
#include <tomato/client/policy/loadbalancer_p.h>
#include <tomato/client/stub.h>
#include <tomato/core/rpcconfig.h>
#include <tomato/registry/instanceinfo.h>

#include <QtCore/QMutex>
#include <memory>

namespace Tomato {

// One instance a cluster channel may send a call to.
struct Target
{
    InstanceInfo instance;
    std::shared_ptr<ClientSession> session;
};

// The instances a cluster channel chooses from, replaced as a whole when the registry
// reports a change, and the policy that chooses. Thread-safe.
struct ClusterState
{
    QString microServiceId;
    QString where; // "stage/group", for errors
    mutable QMutex mutex;
    QList<Target> targets;
    std::unique_ptr<LoadBalancer> balancer;
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
    std::shared_ptr<ClientSession> m_session;
};

// A channel to the instances of a service that the registry lists for the client's stage
// and group; each call goes to the one the cluster's load balancer picks.
class ClusterChannel final : public ConfiguredChannel
{
public:
    ClusterChannel(std::shared_ptr<ClusterState> state, const RpcConfig &config);
    QString describe() const override;

private:
    void send(std::unique_ptr<OutgoingCall> call) override;
    std::shared_ptr<ClusterState> m_state;
};

} // namespace Tomato
