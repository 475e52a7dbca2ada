// SPDX-License-Identifier: Apache-2.0
import QtQuick
import QtQuick.Controls
import QtQuick.Layouts

// Says what is wrong with the registry connection, and offers to retry: shown while the
// registry state is anything but "connected".
Rectangle {
    id: banner
    objectName: "registryBanner"

    property string registryState: "connecting"
    property string address
    property string message
    property int retryInSeconds: 0
    property bool stale: false

    signal retryRequested()

    readonly property string text: {
        switch (registryState) {
        case "unreachable": {
            const retry = retryInSeconds > 0 ? qsTr("retrying in %1 s").arg(retryInSeconds) : qsTr("retrying now");
            const shown = stale ? qsTr("showing the tree as last seen") : qsTr("nothing has been read yet");
            return qsTr("ZooKeeper at %1 does not answer — %2 — %3").arg(address).arg(retry).arg(shown);
        }
        case "refused":
            return message !== "" ? message : qsTr("ZooKeeper at %1 refused access").arg(address);
        case "connecting":
            return qsTr("Connecting to ZooKeeper at %1…").arg(address);
        default:
            return message;
        }
    }

    visible: registryState !== "connected"
    implicitHeight: visible ? layout.implicitHeight + 2 * Theme.spacing : 0
    color: registryState === "connecting" ? Theme.infoBackground
           : registryState === "refused" ? Theme.errorBackground : Theme.warningBackground

    Rectangle {
        anchors.left: parent.left
        anchors.top: parent.top
        anchors.bottom: parent.bottom
        width: 4
        color: banner.registryState === "connecting" ? Theme.stateColor("starting")
               : banner.registryState === "refused" ? Theme.errorColor : Theme.warningColor
    }

    RowLayout {
        id: layout
        anchors.fill: parent
        anchors.leftMargin: Theme.pageMargin
        anchors.rightMargin: Theme.pageMargin
        anchors.topMargin: Theme.spacing
        anchors.bottomMargin: Theme.spacing
        spacing: Theme.spacing

        ColumnLayout {
            Layout.fillWidth: true
            spacing: 2
            Label {
                objectName: "registryBannerText"
                Layout.fillWidth: true
                text: banner.text
                wrapMode: Text.Wrap
                font.pixelSize: Theme.fontSize
                font.bold: true
            }
            Label {
                objectName: "registryBannerDetail"
                Layout.fillWidth: true
                visible: banner.registryState === "unreachable" && banner.message !== ""
                text: banner.message
                wrapMode: Text.Wrap
                font.pixelSize: Theme.smallFontSize + 1
            }
        }
        Button {
            objectName: "retryButton"
            visible: banner.registryState === "unreachable" || banner.registryState === "refused"
            text: qsTr("Retry now")
            onClicked: banner.retryRequested()
        }
    }
}
