/**
 * File schemas shared by the loaders (src/data/datasets) and the generators that write files in the same
 * formats (src/data/synthetic): column headers, label lists and the SYNTHETIC marker. Both import from here, so
 * neither imports the other.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Column headers of the KuaiRec 2.0 files. */
export const KUAIREC_COLUMNS = {
  matrix: ['user_id', 'video_id', 'play_duration', 'video_duration', 'time', 'date', 'timestamp', 'watch_ratio'],
  itemCategories: ['video_id', 'feat'],
  userFeatures: [
    'user_id', 'user_active_degree', 'is_lowactive_period', 'is_live_streamer', 'is_video_author', 'follow_user_num', 'follow_user_num_range',
    'fans_user_num', 'fans_user_num_range', 'friend_user_num', 'friend_user_num_range', 'register_days', 'register_days_range',
    ...Array.from({ length: 18 }, (_, k) => `onehot_feat${k}`),
  ],
  socialNetwork: ['user_id', 'friend_list'],
  itemDailyFeatures: [
    'video_id', 'date', 'author_id', 'video_type', 'upload_dt', 'upload_type', 'visible_status', 'video_duration', 'video_width', 'video_height',
    'music_id', 'video_tag_id', 'video_tag_name', 'show_cnt', 'show_user_num', 'play_cnt', 'play_user_num', 'play_duration', 'complete_play_cnt',
    'complete_play_user_num', 'valid_play_cnt', 'valid_play_user_num', 'long_time_play_cnt', 'long_time_play_user_num', 'short_time_play_cnt',
    'short_time_play_user_num', 'play_progress', 'comment_stay_duration', 'like_cnt', 'like_user_num', 'click_like_cnt', 'double_click_cnt',
    'cancel_like_cnt', 'cancel_like_user_num', 'comment_cnt', 'comment_user_num', 'direct_comment_cnt', 'reply_comment_cnt', 'delete_comment_cnt',
    'delete_comment_user_num', 'comment_like_cnt', 'comment_like_user_num', 'follow_cnt', 'follow_user_num', 'cancel_follow_cnt',
    'cancel_follow_user_num', 'share_cnt', 'share_user_num', 'download_cnt', 'download_user_num', 'report_cnt', 'report_user_num',
    'reduce_similar_cnt', 'reduce_similar_user_num', 'collect_cnt', 'collect_user_num', 'cancel_collect_cnt', 'cancel_collect_user_num',
  ],
  captionCategory: [
    'video_id', 'manual_cover_text', 'caption', 'topic_tag', 'first_level_category_id', 'first_level_category_name', 'second_level_category_id',
    'second_level_category_name', 'third_level_category_id', 'third_level_category_name',
  ],
} as const;

/** The 19 genre flag columns of ml-100k's u.item, in file order. */
export const ML100K_GENRES = [
  'unknown', 'Action', 'Adventure', 'Animation', "Children's", 'Comedy', 'Crime', 'Documentary', 'Drama', 'Fantasy', 'Film-Noir', 'Horror',
  'Musical', 'Mystery', 'Romance', 'Sci-Fi', 'Thriller', 'War', 'Western',
];

/** Name of the marker file every generator writes next to its files; loaders label such data SYNTHETIC. */
export const SYNTHETIC_MARKER = 'SYNTHETIC';

/** Writes the SYNTHETIC marker into `dir`, saying what generated the files. */
export function writeSyntheticMarker(dir: string, text: string): void {
  writeFileSync(join(dir, SYNTHETIC_MARKER), text.endsWith('\n') ? text : `${text}\n`);
}

/** Whether `dir` holds generated data (it carries the SYNTHETIC marker; folder names do not count). */
export function hasSyntheticMarker(dir: string): boolean {
  return existsSync(join(dir, SYNTHETIC_MARKER));
}
