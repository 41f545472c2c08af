/* unit.h - the unit test functions, one group per file. */
#ifndef SHARDCAP_UNIT_H
#define SHARDCAP_UNIT_H

void test_strbuf(void);
void test_util(void);
void test_json(void);
void test_capture_pcap(void);
void test_capture_pcapng(void);
void test_capture_damage(void);
void test_capture_trickle(void);
void test_capture_regress(void);
void test_source(void);
void test_split(void);
void test_split_damage(void);
void test_split_flow(void);
void test_config(void);
void test_remote(void);
void test_run_script(void);
void test_slot_script(void);
void test_rsync_watch(void);
void test_slot_forgets(void);
void test_local_zone(void);
void test_catalog(void);
void test_balance(void);
void test_flow(void);
void test_zmerge(void);

#endif
