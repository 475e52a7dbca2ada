// SPDX-License-Identifier: Apache-2.0
import QtQuick

// A stand-in for InstanceDetails with the same properties and its `changed` signal.
QtObject {
    signal changed()
    property string address: "127.0.0.1:4567"
    property bool known: true
    property bool loaded: true
    property string microServiceId: "demo-rpc-service"
    property string stage: "dev"
    property string group: "main"
    property string transport: "tcp"
    property string state: "healthy"
    property string stateReason
    property var node: ({ host: "127.0.0.1", port: 4567, application: "tomato-sample-server", pid: 31617,
                          hostName: "vm", uptimeSeconds: 192, interfaces: "8c9c217fe74d", weight: 100 })
    property var services: [
        { service: "tomato.demo.EchoService", microServiceId: "demo-rpc-service", methods: [
            { name: "echo", signature: "echo(QString)", returnType: "QString", idempotent: true,
              arguments: [{ name: "text", type: "QString" }] },
            { name: "repeat", signature: "repeat(QString,int)", returnType: "QStringList", idempotent: false,
              arguments: [{ name: "text", type: "QString" }, { name: "times", type: "int" }] }] }
    ]
    property string metricsText: "# TYPE tomato_server_calls_total counter\ntomato_server_calls_total 12\n"
    property var callsHistory: [1, 2, 3]
    property var p99History: [2, -1, 3]
    property int historyIntervalMs: 2000
    property var recentErrors: []
    property real callsPerSecond: 3
    property real errorRate: 0
    property real p99Ms: 3
    property int inFlight: 0
}
