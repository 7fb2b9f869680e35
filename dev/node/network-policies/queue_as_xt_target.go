// Replaces github.com/google/nftables/expr/queue.go (v0.3.0) when dev/cluster/build.sh
// builds kube-network-policies (go build -overlay; nothing else uses this file).
//
// Why: kube-network-policies sends a packet to its user-space verdict with nftables'
// native `queue` expression, which needs the kernel's nft_queue (CONFIG_NFT_QUEUE). The
// build machines' kernel is built without it and loads no modules (every rule carrying
// it is refused with ENOENT), but it has the x_tables NFQUEUE target
// (CONFIG_NETFILTER_XT_TARGET_NFQUEUE) and nft_compat (CONFIG_NFT_COMPAT), which is how
// iptables-nft writes `-j NFQUEUE`. So the same Queue value is sent as that target: the
// kernel hands the packet to the same nfnetlink queue with the same flags, and the
// enforcer's code stays untouched.
//
// The exported names are the ones the upstream file declares, so every caller compiles
// unchanged.

package expr

import (
	"encoding/binary"

	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/xt"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

type QueueAttribute uint16

type QueueFlag uint16

const (
	QueueNum   QueueAttribute = unix.NFTA_QUEUE_NUM
	QueueTotal QueueAttribute = unix.NFTA_QUEUE_TOTAL
	QueueFlags QueueAttribute = unix.NFTA_QUEUE_FLAGS

	// The x_tables target's flag bits (NFQ_FLAG_BYPASS 0x1, NFQ_FLAG_CPU_FANOUT 0x2) are
	// the same as nftables' (NFT_QUEUE_FLAG_*), so they pass through as they are.
	QueueFlagBypass QueueFlag = unix.NFT_QUEUE_FLAG_BYPASS
	QueueFlagFanout QueueFlag = unix.NFT_QUEUE_FLAG_CPU_FANOUT
	QueueFlagMask   QueueFlag = unix.NFT_QUEUE_FLAG_MASK
)

type Queue struct {
	Num   uint16
	Total uint16
	Flag  QueueFlag
}

// asTarget: the NFQUEUE target, revision 3, whose info is struct xt_NFQ_info_v3
// {__u16 queuenum; __u16 queues_total; __u16 flags;} in host byte order. The kernel
// refuses queues_total 0, which nftables' queue reads as 1.
func (e *Queue) asTarget() *Target {
	total := e.Total
	if total == 0 {
		total = 1
	}
	var info []byte
	info = append(info, binaryutil.NativeEndian.PutUint16(e.Num)...)
	info = append(info, binaryutil.NativeEndian.PutUint16(total)...)
	info = append(info, binaryutil.NativeEndian.PutUint16(uint16(e.Flag))...)
	payload := xt.Unknown(info)
	return &Target{Name: "NFQUEUE", Rev: 3, Info: &payload}
}

func (e *Queue) marshal(fam byte) ([]byte, error) { return e.asTarget().marshal(fam) }

func (e *Queue) marshalData(fam byte) ([]byte, error) { return e.asTarget().marshalData(fam) }

// unmarshal reads a native queue expression (as another program may have written it);
// the rules this build writes read back as Target.
func (e *Queue) unmarshal(fam byte, data []byte) error {
	ad, err := netlink.NewAttributeDecoder(data)
	if err != nil {
		return err
	}
	ad.ByteOrder = binary.BigEndian
	for ad.Next() {
		switch ad.Type() {
		case unix.NFTA_QUEUE_NUM:
			e.Num = ad.Uint16()
		case unix.NFTA_QUEUE_TOTAL:
			e.Total = ad.Uint16()
		case unix.NFTA_QUEUE_FLAGS:
			e.Flag = QueueFlag(ad.Uint16())
		}
	}
	return ad.Err()
}
