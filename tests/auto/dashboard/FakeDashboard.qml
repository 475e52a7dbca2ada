// SPDX-License-Identifier: Apache-2.0
import QtQuick

// A stand-in for Dashboard: its properties, and its methods recording what they were asked.
QtObject {
    id: dashboard

    property string registryAddress: "127.0.0.1:2181"
    property string registryState: "connected"
    property string registryMessage
    property bool stale: false
    property int retryInSeconds: 0
    property bool loaded: true
    property int serviceCount: services.all.length
    property FakeServiceModel services: FakeServiceModel { }
    property string currentService
    property FakeInvokerModel invokers: FakeInvokerModel { }
    property ListModel consumers: ListModel { }
    property string currentInstance
    property FakeInstanceDetails instance: FakeInstanceDetails { }
    property string writeRefusal
    property string callRefusal
    property bool darkMode: false

    signal actionFinished(bool ok, string message)
    signal callFinished(bool ok, string result)

    // Each call as [method, arguments...].
    property var calls: []
    function setWeight(stage, address, weight) { calls.push(["setWeight", stage, address, weight]); }
    function setDisabled(stage, address, disabled) { calls.push(["setDisabled", stage, address, disabled]); }
    function clearOverride(stage, address) { calls.push(["clearOverride", stage, address]); }
    function tryCall(address, interfaceName, method, argumentsJson) {
        calls.push(["tryCall", address, interfaceName, method, argumentsJson]);
    }
    function retryNow() { calls.push(["retryNow"]); }
}
