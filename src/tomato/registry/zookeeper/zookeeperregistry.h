// SPDX-License-Identifier: Apache-2.0
#pragma once
#include <tomato/core/rpcconfig.h>
#include <tomato/registry/registry.h>
#include <tomato/registry/registryfactory.h>
#include <tomato/registry/zookeeper/tomato_zookeeper_export.h>

#include <QtCore/QFuture>
#include <memory>

namespace Tomato {

// One micro-service in one stage, as ZooKeeperRegistry::browse() read it or watchTree()
// keeps it. A plain value.
struct TOMATO_ZOOKEEPER_EXPORT RegistryServiceEntry
{
    QString microServiceId;
    QString stage;
    QList<InstanceInfo> providers; // by address
    QList<ConsumerInfo> consumers; // by host, pid and client
    InstanceOverrides overrides;   // the valid ones, by host:port (malformed nodes are left out)
    // Whether the reading session may write overrides there, from the stage node's ACL
    // (watchTree() only; browse() leaves it true). True when the ACL could not be read: a
    // write will tell.
    bool writable = true;
};

// The ZooKeeper registry backend (docs/REGISTRY.md), on the ZooKeeper C client.
//
// Tree (docs/REGISTRY.md), every segment percent-encoded:
//   /tomato/{micro-service-id}/{stage}/providers/{instance node name}   EPHEMERAL, instance JSON
//   /tomato/{micro-service-id}/{stage}/consumers/{consumer node name}   EPHEMERAL, consumer JSON
//   /tomato/{micro-service-id}/{stage}/overrides/{host:port}            persistent, InstanceOverride JSON
// Parents are persistent and created when missing. subscribe() watches a service's
// providers and its overrides; a malformed override node is logged and counts as absent.
//
// Threads: the object lives on its creating thread (which must run an event loop). The
// ZooKeeper client's own threads never touch Qt objects: every callback is posted to this
// object's thread, and no call here blocks on ZooKeeper but stop() and the destructor: while
// connected they wait (a second at most) for the requests just sent, an unregistration above
// all, to be answered before closing the session.
//
// Trouble: while disconnected it keeps the last known instances (a failed read is never
// "no providers"); on session expiry it opens a new session, re-creates its ephemeral nodes
// (deleting a stale one of ours first), and re-reads and re-watches every subscription; an
// empty list from a healthy read while instances are known is ignored (and logged) when
// empty protection is on; an unreachable ensemble at start is retried until it answers.
//
// Dashboards: watchTree() keeps the whole tree, pushed by ZooKeeper watches (one per node
// read, re-armed by re-reading only the node that fired), and reports each (service, stage)
// that appears, changes or goes; like subscriptions it keeps everything while disconnected
// and re-reads (emitting only differences) on every connection.
//
// Access: with credentials (zookeeper://user:password@host:port) the session authenticates
// with ZooKeeper's digest scheme, and every node it creates gets an ACL that lets only
// holders of those credentials change it, and anyone read it (a dashboard still sees the tree).
class TOMATO_ZOOKEEPER_EXPORT ZooKeeperRegistry : public Registry
{
    Q_OBJECT
public:
    // `uri`: zookeeper://[user:password@]host:port[,host:port...][/chroot] (the scheme may be
    // left out; user and password percent-encoded); registry-session-timeout-ms and
    // empty-protection come from `config`. Throws RpcError(BadArguments) for a malformed URI.
    explicit ZooKeeperRegistry(const QString &uri, const RpcConfig &config = RpcConfig(),
                               QObject *parent = nullptr);

    // Teaches a factory the zookeeper:// scheme (and bare host:port lists).
    static void registerScheme(RegistryFactory &factory);
    ~ZooKeeperRegistry() override;

    void start() override;
    void stop() override;
    void registerInstance(const InstanceInfo &instance) override;
    void unregisterInstance(const InstanceInfo &instance) override;
    void subscribe(const QString &microServiceId, const QString &stage) override;
    QList<InstanceInfo> instances(const QString &microServiceId, const QString &stage) const override;
    bool isConnected() const override;
    void registerConsumer(const ConsumerInfo &consumer) override;
    void unregisterConsumer(const ConsumerInfo &consumer) override;
    InstanceOverrides overrides(const QString &microServiceId, const QString &stage) const override;

    // For operators' tools and tests: writes the override of the instance at `address`
    // ("host:port") as a persistent node (parents created), or removes it, which gives the
    // instance back its registered values. Asynchronous like everything here: the write is
    // sent once the session is connected, sent again after a lost connection, and only the
    // latest call for an address counts; a refused write (no permission) is logged and
    // dropped. Subscribers, this registry included, see the result as overridesChanged().
    // overrideWriteFinished() tells each call's outcome.
    void setOverride(const QString &microServiceId, const QString &stage, const QString &address,
                     const InstanceOverride &value);
    void clearOverride(const QString &microServiceId, const QString &stage, const QString &address);
    // The URI carried user:password (the session authenticates, and our nodes are protected).
    bool hasCredentials() const;

    // For operators' tools (`tomato list`): reads the whole tree under /tomato once, watching
    // nothing: every micro-service and stage, sorted by id and stage, with its providers,
    // consumers and overrides; nodes that are none of these are skipped. Asynchronous like
    // everything here: the reads go out once the session is connected (after start()) and
    // begin afresh after a lost connection, so the future waits for as long as its consumer
    // does. A read ZooKeeper refuses (no permission) fails it with RpcError(Internal);
    // stop() and the destructor fail the browses still running with RpcError(Cancelled).
    QFuture<QList<RegistryServiceEntry>> browse();

    // For dashboards: watches the whole tree under /tomato (every micro-service and stage as
    // they come and go, each stage's providers, consumers and overrides, and whether we may
    // write its overrides), so that tree() and the tree signals follow ZooKeeper within its
    // watch latency, without polling. Each node is listed with a watch, each override node's
    // data read with one, and when a watch fires only that node is read again; a missing
    // /tomato is watched until it appears. A stage's entry is first reported once its reads
    // are all back, then on every real change. Reads go out once the session is connected
    // (start() before or after); every connection re-reads every watched node (a failed read
    // sets no watch, a new session has none) and reports only differences. While
    // disconnected everything known stays; a refused read (no permission) is reported by
    // treeReadFailed() and keeps the last known data. Calling it again does nothing; stop()
    // pauses it, keeping the tree, and start() resumes it.
    void watchTree();
    // The last known tree, sorted by id and stage like browse() (empty before the first read):
    // the entries as last reported by treeEntryChanged().
    QList<RegistryServiceEntry> tree() const;
    bool isTreeLoaded() const; // every node known at the time has been read once

    // Node paths: a service's providers, consumers and overrides in a stage, and one
    // instance, consumer or override ("host:port") node.
    static QString providersPath(const QString &microServiceId, const QString &stage);
    static QString instancePath(const InstanceInfo &instance);
    static QString consumersPath(const QString &microServiceId, const QString &stage);
    static QString consumerPath(const ConsumerInfo &consumer);
    static QString overridesPath(const QString &microServiceId, const QString &stage);
    static QString overridePath(const QString &microServiceId, const QString &stage, const QString &address);

Q_SIGNALS:
    // A (service, stage) appeared, or its providers, consumers, overrides or writability changed.
    // Providers and consumers are sorted as browse() sorts them.
    void treeEntryChanged(const Tomato::RegistryServiceEntry &entry);
    // The stage node, or its service's node, is gone.
    void treeEntryRemoved(const QString &microServiceId, const QString &stage);
    // Every node listed so far has been read once (after watchTree(), and after each new session's re-read).
    void treeLoaded();
    // A read of the tree failed for a reason other than a lost connection (e.g. ZNOAUTH: an ACL that
    // does not let us read): path and ZooKeeper's reason; the last known data stays.
    void treeReadFailed(const QString &path, const QString &error);
    // setOverride()/clearOverride() finished: error empty when written, else the reason
    // (e.g. "not authorised (ZNOAUTH): ..."). Emitted once per call that reached ZooKeeper's answer
    // (a call superseded by a later one for the same address may report only the latest).
    void overrideWriteFinished(const QString &microServiceId, const QString &stage,
                               const QString &address, const QString &error);

private:
    friend class ZooKeeperRegistryPrivate;
    std::unique_ptr<class ZooKeeperRegistryPrivate> d;
};

} // namespace Tomato

Q_DECLARE_METATYPE(Tomato::RegistryServiceEntry)
